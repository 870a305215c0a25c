"""Slack payloads to ``InboundMessage``, on the captured fixtures: which events are for the
bot, the text the person typed, the thread, the dedupe key."""

from __future__ import annotations

import pytest

from omnidesk.channels import Attachment
from omnidesk.channels.slack.convert import (
    Addressed,
    SlackUser,
    classify_mention,
    classify_message,
    inbound_from_action,
    inbound_from_event,
    parse_thread_key,
    thread_key,
    user_of,
)
from omnidesk.channels.slack.revisions import classify_revision, inbound_from_revision
from omnidesk.channels.slack.text import plain_text
from tests.channels.slack.fakeslack import ALICE, BOT_USER_ID, FakeSlack, fixture

ALICE_USER = SlackUser(ALICE, "Alice Doe", "alice@example.com")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("message_im", Addressed.YES),
        ("message_im_file_share", Addressed.YES),
        ("message_thread_reply", Addressed.IF_BOT_IN_THREAD),
        ("message_channel_mention", Addressed.NO),
        ("message_changed", Addressed.NO),
        ("bot_message", Addressed.NO),
        ("own_message", Addressed.NO),
        ("channel_join", Addressed.NO),
    ],
)
def test_which_message_events_are_for_the_bot(name: str, expected: Addressed) -> None:
    assert classify_message(fixture(name)["event"], BOT_USER_ID) is expected


def test_top_level_channel_message_without_mention_is_not_for_the_bot() -> None:
    event = fixture("message_channel_mention", text="anyone seen the new lamp?")["event"]
    assert classify_message(event, BOT_USER_ID) is Addressed.NO


def test_mentions_count_in_channels_only() -> None:
    assert classify_mention(fixture("app_mention")["event"], BOT_USER_ID) is Addressed.YES
    in_dm = fixture("app_mention", channel="D0ALICE01")["event"]
    assert classify_mention(in_dm, BOT_USER_ID) is Addressed.NO


def test_dm_event_becomes_inbound_in_its_own_thread() -> None:
    body = fixture("message_im")
    inbound = inbound_from_event(body, body["event"], ALICE_USER, BOT_USER_ID)
    assert inbound.channel == "slack"
    assert inbound.sender_id == ALICE
    # Slack names a message by channel and ts; its retries, edits and deletion do too.
    assert inbound.dedupe_key == "D0ALICE01:1700000000.000100"
    assert inbound.text == "how do I reset my password?"
    assert inbound.thread_key == "D0ALICE01:1700000000.000100"
    assert (inbound.sender_name, inbound.sender_email) == ("Alice Doe", "alice@example.com")
    assert inbound.received_at.timestamp() == pytest.approx(1700000000.0001)
    assert inbound.raw["event_id"] == "Ev0DM00000001" and inbound.raw["channel"] == "D0ALICE01"


def test_thread_reply_keeps_the_threads_key() -> None:
    body = fixture("message_thread_reply")
    inbound = inbound_from_event(body, body["event"], None, BOT_USER_ID)
    assert inbound.thread_key == "C0SUPPORT1:1700000100.000200"
    assert inbound.sender_name is None and inbound.sender_email is None


def test_file_share_keeps_text_and_files_as_links() -> None:
    body = fixture("message_im_file_share")
    inbound = inbound_from_event(body, body["event"], ALICE_USER, BOT_USER_ID)
    assert inbound.text == (
        "the lamp shows this & blinks red, see status page (https://lumen.example/status?a=1&b=2)"
    )
    assert inbound.attachments == (
        Attachment(
            filename="lamp.jpg",
            content_type="image/jpeg",
            size=48213,
            url="https://lumen.slack.com/files/U0ALICE01/F0PHOTO001/lamp.jpg",
        ),
        # A file Slack hides by the plan's limits is still named, never silently lost.
        Attachment(
            filename="F0HIDDEN01 (hidden by limit)",
            content_type="application/octet-stream",
            size=0,
        ),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0BOT0001> how do I reset my password?", "how do I reset my password?"),
        ("<@U0BOT0001>, where is my parcel?", "where is my parcel?"),
        ("hey <@U0BOT0001|lumen> where is  my parcel", "hey where is  my parcel"),
        ("ask <@U0BOB0001> or <@U0CAROL01|carol>", "ask @U0BOB0001 or @carol"),
        ("see <#C0SUPPORT1|support> and <#C0OTHER01>", "see #support and #C0OTHER01"),
        ("<!here> lamp is &lt;off&gt; &amp; cold", "@here lamp is <off> & cold"),
        (
            "<mailto:a@example.com|a@example.com> <https://x.example>",
            "a@example.com https://x.example",
        ),
        ("<!subteam^S0123|@support> help", "@support help"),
        ("~_*really*_~ broken, *not* _now_", "really broken, not now"),
        ("my_file_name.txt and 2*3*4 and * bullet", "my_file_name.txt and 2*3*4 and * bullet"),
        ("run `*not bold*` then ```a_b_ *c*```", "run `*not bold*` then ```a_b_ *c*```"),
    ],
)
def test_plain_text(text: str, expected: str) -> None:
    assert plain_text(text, BOT_USER_ID) == expected


def test_mentions_take_the_names_looked_up() -> None:
    names = {"U0BOB0001": "Bob Stone"}
    assert plain_text("ask <@U0BOB0001> or <@U0GHOST1>", BOT_USER_ID, names) == (
        "ask @Bob Stone or @U0GHOST1"
    )


def test_button_click_becomes_an_action_in_the_buttons_thread() -> None:
    payload = fixture("block_actions")
    inbound = inbound_from_action(payload, payload["actions"][0], ALICE_USER)
    assert inbound is not None
    assert inbound.action == "human" and inbound.text == "Talk to a person"
    assert inbound.sender_id == ALICE
    assert inbound.thread_key == "D0ALICE01:1700000000.000100"
    assert inbound.dedupe_key == "1700000005.000600:1700000010.123456"


def test_clicks_on_other_things_are_not_ours() -> None:
    payload = fixture("block_actions")
    foreign = {**payload["actions"][0], "action_id": "someone_elses_button"}
    assert inbound_from_action(payload, foreign, None) is None
    menu = {**payload["actions"][0], "type": "static_select"}
    assert inbound_from_action(payload, menu, None) is None


def test_thread_keys_round_trip() -> None:
    assert parse_thread_key(thread_key("C0SUPPORT1", "1700000100.000200")) == (
        "C0SUPPORT1",
        "1700000100.000200",
    )
    assert parse_thread_key("") is None
    assert parse_thread_key("no-colon") is None


def test_users_info_profiles() -> None:
    fake = FakeSlack()
    assert user_of(fake.users[ALICE]) == SlackUser(ALICE, "Alice Doe", "Alice@Example.com")
    assert user_of({"id": "U1", "name": "svc", "is_bot": True}) == SlackUser(
        "U1", "svc", None, True
    )


def test_rich_text_only_message_reads_its_blocks() -> None:
    body = fixture("message_im")
    event = {
        **body["event"],
        "text": "",
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "Steps:"}]},
                    {
                        "type": "rich_text_list",
                        "style": "ordered",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "text", "text": "unplug"}],
                            },
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "text", "text": "wait"}],
                            },
                        ],
                    },
                    {
                        "type": "rich_text_quote",
                        "elements": [{"type": "text", "text": "it blinks"}],
                    },
                    {
                        "type": "rich_text_preformatted",
                        "elements": [{"type": "text", "text": "E42"}],
                    },
                ],
            }
        ],
    }
    inbound = inbound_from_event(body, event, ALICE_USER, BOT_USER_ID)
    assert inbound.text == "Steps:\n1. unplug\n2. wait\n> it blinks\n```\nE42\n```"


def test_attachments_only_message_reads_the_shared_text() -> None:
    body = fixture("message_im")
    event = {
        **body["event"],
        "text": "",
        "blocks": [],
        "attachments": [
            {"fallback": "[shared] lamp broken", "text": "lamp *broken*", "is_share": True}
        ],
    }
    assert inbound_from_event(body, event, ALICE_USER, BOT_USER_ID).text == "lamp broken"


def test_a_deleted_thread_start_becomes_a_tombstone_and_counts_as_a_deletion() -> None:
    # Deleting a message that has replies (every DM question the bot answered in its
    # thread) keeps its place as a tombstone: Slack sends message_changed, not deleted.
    question = fixture("message_im")["event"]
    kept = {"ts": question["ts"], "thread_ts": question["ts"], "reply_count": 1}
    body = fixture("message_changed")
    body["event"].update(
        message={
            "type": "message",
            "subtype": "tombstone",
            "text": "This message was deleted.",
            "user": "USLACKBOT",
            "hidden": True,
            **kept,
        },
        previous_message={"type": "message", "user": ALICE, "text": question["text"], **kept},
    )
    event = body["event"]
    assert classify_revision(event, BOT_USER_ID) is Addressed.YES
    inbound = inbound_from_revision(body, event, ALICE_USER, BOT_USER_ID)
    assert inbound.deleted and inbound.text == ""
    assert (inbound.sender_id, inbound.replaces) == (ALICE, f"D0ALICE01:{question['ts']}")


def test_an_unfurl_or_a_reply_count_is_not_an_edit() -> None:
    body = fixture("message_changed")
    event = body["event"]
    event["message"] = {**event["previous_message"], "reply_count": 2, "attachments": [{"id": 1}]}
    assert classify_revision(event, BOT_USER_ID) is Addressed.NO
