"""A customer's edits and deletions in Slack, against the real app and a local Slack: the
stored message follows (text, earlier wording, redaction), the timeline says so, the
console's message API shows it, and the bot does not answer an edit again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from omnidesk.helpdesk import Conversation, Message, TimelineEvent
from tests.accounts import bearer
from tests.channels.slack.conftest import Workspace
from tests.channels.slack.fakeslack import FakeSlack, eventually, fixture

QUESTION_TS = "1700000000.000100"


def edit(
    text: str, *, event_id: str = "Ev0EDIT000001", edited_ts: str = "1700000030.000000"
) -> dict[str, Any]:
    payload = fixture("message_changed", event_id=event_id)
    payload["event"]["message"].update(text=text, edited={"user": "U0ALICE01", "ts": edited_ts})
    return payload


def deletion(event_id: str = "Ev0DELETE0001") -> dict[str, Any]:
    """The ``message_deleted`` Slack sends when Alice deletes her question."""
    original = fixture("message_im")["event"]
    return {
        **fixture("message_im", event_id=event_id),
        "event": {
            "type": "message",
            "subtype": "message_deleted",
            "previous_message": {
                "type": "message",
                "user": original["user"],
                "text": "how do I reset my password on the app?",
                "ts": QUESTION_TS,
                "team": "T0LUMEN01",
            },
            "channel": "D0ALICE01",
            "hidden": True,
            "deleted_ts": QUESTION_TS,
            "event_ts": "1700000090.000200",
            "ts": "1700000090.000200",
            "channel_type": "im",
        },
    }


async def question(workspace: Workspace) -> Message:
    async with workspace.services.sessionmaker() as session:
        found = await session.scalar(select(Message).where(Message.author == "contact"))
    assert found is not None
    return found


async def timeline_kinds(workspace: Workspace) -> list[str]:
    async with workspace.services.sessionmaker() as session:
        rows = await session.scalars(select(TimelineEvent.kind).order_by(TimelineEvent.id))
        return list(rows)


async def console_messages(workspace: Workspace, conversation_id: int) -> list[dict[str, Any]]:
    headers = await bearer(workspace.services.sessionmaker, email="dana@x.test")
    resp = await workspace.client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert resp.status == 200
    return list((await resp.json())["messages"])


async def test_an_edit_updates_the_stored_message_and_is_not_answered_again(
    workspace: Workspace, slack: FakeSlack
) -> None:
    await workspace.event(fixture("message_im"))
    await eventually(slack.posts)
    await eventually(workspace.settled)

    assert (await workspace.event(edit("how do I reset my password on the app?"))).status == 200
    await eventually(workspace.settled)
    message = await eventually(
        lambda: _when(question(workspace), lambda m: m.text.endswith("on the app?"))
    )
    assert message.payload["edited"] is True
    assert [r["text"] for r in message.payload["revisions"]] == ["how do I reset my password?"]
    assert "message_edited" in await timeline_kinds(workspace)
    # An edit changes the record; the bot's answer to the first wording stands alone.
    assert len(slack.posts()) == 1
    # Slack delivering the same edit again changes nothing twice.
    await workspace.event(edit("how do I reset my password on the app?"), retry_num=1)
    await eventually(workspace.settled)
    assert len((await question(workspace)).payload["revisions"]) == 1

    shown = await console_messages(workspace, message.conversation_id)
    [customer] = [m for m in shown if m["author"] == "contact"]
    assert customer["edited"] is True and customer["deleted"] is False
    assert customer["text"] == "how do I reset my password on the app?"
    assert customer["revisions"][0]["text"] == "how do I reset my password?"


async def test_a_deletion_redacts_the_message_and_its_earlier_wording(
    workspace: Workspace, slack: FakeSlack
) -> None:
    await workspace.event(fixture("message_im"))
    await eventually(slack.posts)
    await workspace.event(edit("how do I reset my password on the app?"))
    await eventually(workspace.settled)

    assert (await workspace.event(deletion())).status == 200
    message = await eventually(
        lambda: _when(question(workspace), lambda m: bool(m.payload.get("deleted")))
    )
    assert message.text == ""
    assert "revisions" not in message.payload
    await eventually(workspace.settled)
    async with workspace.services.sessionmaker() as session:
        events = (await session.scalars(select(TimelineEvent).order_by(TimelineEvent.id))).all()
        conversations = (await session.scalars(select(Conversation))).all()
    kinds = [e.kind for e in events]
    assert kinds.count("message_deleted") == 1 and "message_edited" in kinds
    # The edit entry no longer quotes what the customer took back.
    assert all("previous" not in e.data for e in events if e.kind == "message_edited")
    assert len(conversations) == 1 and len(slack.posts()) == 1
    shown = await console_messages(workspace, message.conversation_id)
    [customer] = [m for m in shown if m["author"] == "contact"]
    assert customer["deleted"] is True and customer["text"] == "" and customer["revisions"] == []


async def test_a_deletion_of_a_message_never_taken_leaves_nothing_behind(
    workspace: Workspace, slack: FakeSlack
) -> None:
    assert (await workspace.event(deletion())).status == 200
    assert await workspace.inbox_count() == 1
    await eventually(workspace.settled)
    async with workspace.services.sessionmaker() as session:
        assert (await session.scalars(select(Conversation))).all() == []
        assert (await session.scalars(select(Message))).all() == []
    assert slack.posts() == []


async def _when(probe: Any, condition: Any) -> Any:
    value = await probe
    return value if condition(value) else None
