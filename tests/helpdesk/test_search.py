"""Full-text search over messages and contacts, on SQLite (FTS5) and PostgreSQL: words,
prefixes, ranking, hostile input, the index following edits and deletes, the migration
on existing rows and back, and the API's answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import delete, update

from omnidesk.bot.app import create_app
from omnidesk.bot.migrate import upgrade
from omnidesk.config import Settings
from omnidesk.helpdesk import Author, Contact, Message, actions, search, unit_of_work
from omnidesk.helpdesk.search import parse_query, search_contacts, search_messages, snippet
from tests.accounts import client_bearer
from tests.conftest import Database

HOSTILE = [
    '"foo',
    "NEAR(",
    "*",
    "foo*",
    "a AND OR NOT b",
    "refund)",
    "^refund",
    "col:refund",
    "text:refund",
    "'; DROP TABLE messages; --",
    "refund & ! |",
    "refund:*",
    "!!!",
    "{refund}",
    "- refund",
    "\x00refund",
]


async def _conversation(db: Database, visitor: str, *texts: str, name: str | None = None) -> int:
    """A conversation of ``visitor`` with the customer's ``texts``; its id."""
    async with unit_of_work(db.sessionmaker) as session:
        identity = await actions.resolve_identity(session, "webchat", visitor, name=name)
        conversation = await actions.current_conversation(session, identity)
        for text in texts:
            await actions.record_message(session, conversation, Author.CONTACT, text)
        return conversation.id


async def _search(db: Database, query: str, **kwargs: Any) -> list[dict[str, Any]]:
    async with db.sessionmaker() as session:
        return await search_messages(session, query, limit=kwargs.pop("limit", 20), **kwargs)


def _texts(results: list[dict[str, Any]]) -> list[str]:
    return [r["snippet"]["text"] for r in results]


async def test_finds_messages_by_word_and_prefix(db: Database) -> None:
    first = await _conversation(db, "v1", "My invoice for March is wrong", "thanks")
    await _conversation(db, "v2", "Where is my parcel?", "The courier never came")

    found = await _search(db, "invoice")
    assert [r["conversation_id"] for r in found] == [first]
    assert found[0]["message"]["author"] == "contact"
    assert found[0]["message"]["created_at"].endswith("+00:00")
    # Case, and the last word as a prefix while it is being typed.
    assert _texts(await _search(db, "COURI")) == ["The courier never came"]
    assert _texts(await _search(db, "parcel where")) == ["Where is my parcel?"]
    # Every word must match; a prefix applies to the last word only.
    assert await _search(db, "parcel courier") == []
    assert await _search(db, "couri parcel") == []
    assert await _search(db, "nothing-like-this") == []


async def test_newest_matches_across_id_windows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows of two ids make PostgreSQL walk many windows, widening them where matches
    # are sparse; SQLite has no windows. Either way the cap keeps the newest matches.
    monkeypatch.setattr(search, "FIRST_WINDOW", 2)
    monkeypatch.setattr(search, "CANDIDATES", 5)
    texts = [f"parcel number {i}" if i % 4 == 0 else f"other text {i}" for i in range(40)]
    await _conversation(db, "v1", *texts)
    found = await _search(db, "parcel", limit=20)
    assert _texts(found) == [f"parcel number {i}" for i in (36, 32, 28, 24, 20)]
    # An older match beyond the cap is found by a more specific query.
    assert _texts(await _search(db, "number 4")) == ["parcel number 4"]
    assert _texts(await _search(db, "text 1")) == ["other text 1"]
    assert await _search(db, "parcel 41") == []


async def test_snippet_marks_matches_as_offsets(db: Database) -> None:
    long = " ".join(f"filler{i}" for i in range(40)) + " the <b>refund</b> arrived " + "end " * 30
    await _conversation(db, "v1", long)
    (hit,) = await _search(db, "refund")
    text, marks = hit["snippet"]["text"], hit["snippet"]["highlights"]
    assert text.startswith("…") and text.endswith("…")
    assert [text[s:e] for s, e in marks] == ["refund"]
    # The markup is the customer's text, handed back as text for the console to escape.
    assert "<b>refund</b>" in text


def test_snippet_and_query_parsing() -> None:
    terms = parse_query('  "Café" NEAR( refu')
    assert terms.words == ("café", "near", "refu") and terms.prefix
    assert terms.fts5() == '"café" "near" "refu"*'
    assert terms.tsquery() == "'café' & 'near' & 'refu':*"
    assert not parse_query("refund ").prefix
    assert not parse_query("re").prefix  # too short to expand
    assert parse_query('*"(:').words == ()
    got = snippet("Le CAFE est fermé; refunds soon", terms)
    assert [got["text"][s:e] for s, e in got["highlights"]] == ["CAFE", "refunds"]


async def test_ranking_prefers_more_matches(db: Database) -> None:
    await _conversation(db, "v1", "refund please, the refund for my refund request")
    await _conversation(db, "v2", "I want a refund and some other words around it to be longer")
    await _conversation(db, "v3", "nothing relevant here at all")
    found = _texts(await _search(db, "refund "))
    assert found == [
        "refund please, the refund for my refund request",
        "I want a refund and some other words around it to be longer",
    ]
    assert len(await _search(db, "refund", limit=1)) == 1


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_are_only_words(db: Database, query: str) -> None:
    await _conversation(db, "v1", "refund foo near b a", name="Refund Foo")
    found = await _search(db, query)
    async with db.sessionmaker() as session:
        await search_contacts(session, query)
    terms = parse_query(query)
    for hit in found:
        assert set(terms.words) <= set(hit["snippet"]["text"].lower().split())


async def test_private_notes_for_agents_only(db: Database) -> None:
    conversation_id = await _conversation(db, "v1", "public words")
    async with unit_of_work(db.sessionmaker) as session:
        await session.execute(
            update(Message).where(Message.conversation_id == conversation_id).values(private=True)
        )
    (hit,) = await _search(db, "public")
    assert hit["message"]["private"] is True
    assert await _search(db, "public", agent_visible=False) == []


async def test_edits_and_deletes_are_reflected(db: Database) -> None:
    conversation_id = await _conversation(db, "v1", "old wording")
    async with unit_of_work(db.sessionmaker) as session:
        await session.execute(
            update(Message)
            .where(Message.conversation_id == conversation_id)
            .values(text="new phrasing")
        )
    assert await _search(db, "wording") == []
    assert _texts(await _search(db, "phrasing")) == ["new phrasing"]
    async with unit_of_work(db.sessionmaker) as session:
        await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    assert await _search(db, "phrasing") == []


async def test_contacts_by_name_and_email(db: Database) -> None:
    async with unit_of_work(db.sessionmaker) as session:
        ana = await actions.resolve_identity(
            session, "webchat", "v1", name="Ana Lopez", email="ana.lopez@example.com"
        )
        await actions.resolve_identity(session, "webchat", "v2", name="Bob", email="bob@corp.io")
    async with db.sessionmaker() as session:
        (by_name,) = await search_contacts(session, "lopez")
        assert by_name["id"] == ana.contact_id
        assert by_name["highlights"]["name"] == [[4, 9]]
        assert by_name["highlights"]["email"] == [[4, 9]]
        (by_email,) = await search_contacts(session, "corp.io")
        assert by_email["name"] == "Bob"
        assert [c["name"] for c in await search_contacts(session, "exam")] == ["Ana Lopez"]
        assert await search_contacts(session, "carol") == []
    async with unit_of_work(db.sessionmaker) as session:
        await session.execute(
            update(Contact).where(Contact.id == ana.contact_id).values(name="Ana Garcia")
        )
    async with db.sessionmaker() as session:
        assert [c["name"] for c in await search_contacts(session, "garcia")] == ["Ana Garcia"]
        assert await search_contacts(session, "lopez ana") != []  # the e-mail still says so
        await session.execute(delete(Contact).where(Contact.id == ana.contact_id))
        await session.commit()
        assert await search_contacts(session, "ana") == []


async def test_migration_indexes_existing_rows_and_downgrades(db: Database) -> None:
    await _conversation(db, "v1", "written before the index", name="Early Bird")
    await down_one_and_up(db)
    assert _texts(await _search(db, "before")) == ["written before the index"]
    async with db.sessionmaker() as session:
        assert [c["name"] for c in await search_contacts(session, "early")] == ["Early Bird"]


async def down_one_and_up(db: Database) -> None:
    """Down to the revision before search (dropping its structures), then back up."""
    from alembic import command
    from sqlalchemy.engine import Connection

    from omnidesk.bot.migrate import alembic_config

    def down(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")

    async with db.engine.begin() as connection:
        await connection.run_sync(down)
    assert await _search_fails(db)
    await upgrade(db.engine)


async def _search_fails(db: Database) -> bool:
    try:
        await _search(db, "before")
    except Exception:
        return True
    return False


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: Database
) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(create_app(settings))


async def test_search_api(client: TestClient[Any, Any], db: Database) -> None:
    conversation_id = await _conversation(db, "v1", "the parcel is lost", name="Parcel Fan")
    response = await client.get(
        "/api/v1/search", params={"q": "parcel"}, headers=await client_bearer(client)
    )
    assert response.status == 200
    data = await response.json()
    assert [m["conversation_id"] for m in data["messages"]] == [conversation_id]
    assert data["messages"][0]["snippet"]["highlights"] == [[4, 10]]
    assert [c["name"] for c in data["contacts"]] == ["Parcel Fan"]
    hostile = await client.get(
        "/api/v1/search", params={"q": '"NEAR(*'}, headers=await client_bearer(client)
    )
    assert hostile.status == 200


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "invalid"),
        ({"q": "   "}, 400, "invalid"),
        ({"q": "x" * 201}, 400, "too_long"),
        ({"q": "parcel", "limit": "0"}, 400, "invalid"),
        ({"q": "parcel", "limit": "51"}, 400, "invalid"),
        ({"q": "parcel", "limit": "ten"}, 400, "invalid"),
        ({"q": "parcel", "limit": "-1"}, 400, "invalid"),
    ],
)
async def test_search_api_refuses_bad_input(
    client: TestClient[Any, Any], params: dict[str, str], status: int, code: str
) -> None:
    response = await client.get(
        "/api/v1/search", params=params, headers=await client_bearer(client)
    )
    assert response.status == status
    assert (await response.json())["error"]["code"] == code


async def test_search_api_needs_an_agent(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/v1/search", params={"q": "parcel"})
    assert response.status == 401
