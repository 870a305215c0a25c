"""The router, inbox workers, outbox dispatcher, aiohttp app factory and CLI."""

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.bot.router import Router
from omnidesk.bot.services import Services

__all__ = ["SERVICES", "Router", "Services", "create_app"]
