"""Every captured mail in ``tests/fixtures/email`` through the adapter's parser: the text
the customer wrote, the files they attached, the thread the mail belongs to, and whether a
machine sent it, as each folder's manifest expects (see ``tests/corpus.py``).

Email cases carry ``attachments`` (file names in order), ``thread_key`` and ``automated``;
a mail nobody could answer has ``rejected`` (words of the reason) instead."""

from __future__ import annotations

import pytest

from omnidesk.channels.email import RejectedMail, parse_mail
from omnidesk.channels.email.channel import to_inbound
from tests.channels.email.conftest import OURS
from tests.corpus import Case, corpus_params

REQUIRED = ("attachments", "thread_key", "automated")


@pytest.mark.parametrize("case", corpus_params("email"))
def test_mail_arrives_whole(case: Case) -> None:
    raw = case.path.read_bytes()
    if "rejected" in case.expect:
        with pytest.raises(RejectedMail, match=case.expect["rejected"]):
            parse_mail(raw, our_address=OURS)
        return
    missing = [key for key in REQUIRED if key not in case.expect]
    assert not missing, f"{case.id}: manifest lacks {missing}"
    parsed = parse_mail(raw, our_address=OURS)
    message = to_inbound(parsed, [], [], source="smtp")
    case.text_ok(message.text)
    assert [part.filename for part in parsed.attachments] == case.expect["attachments"]
    assert message.thread_key == case.expect["thread_key"]
    assert message.automated is case.expect["automated"], parsed.automated
    if "subject" in case.expect:
        assert message.subject == case.expect["subject"]
    if "sender" in case.expect:
        assert message.sender_email == case.expect["sender"]
