"""``python -m omnidesk``: the command line."""

from omnidesk.bot.cli import main

main()
