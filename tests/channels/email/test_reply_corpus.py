"""Every captured reply body in ``tests/fixtures/email-bodies`` (the text/plain part of a
real reply, kept as its source holds it, without headers) through ``new_text``: what the
customer wrote this time, as each folder's manifest expects (see ``tests/corpus.py``).
Whole mails live in ``tests/fixtures/email`` and go through ``test_corpus.py``."""

from __future__ import annotations

import pytest

from omnidesk.channels.email.reply_text import new_text
from tests.corpus import Case, corpus_params


@pytest.mark.parametrize("case", corpus_params("email-bodies"))
def test_reply_body_keeps_the_customers_words(case: Case) -> None:
    case.text_ok(new_text(case.path.read_text(encoding="utf-8")))
