"""The admin API against the real app: who may do what, article writes with history,
validation without half-written rows, preview, gaps with drafts, and evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from omnidesk.bot.app import SERVICES, create_app
from omnidesk.bot.services import Services
from omnidesk.config import Settings
from omnidesk.db import utcnow
from omnidesk.helpdesk import Author, actions, unit_of_work
from omnidesk.knowledge import ArticleRevision
from tests.accounts import bearer

# Headers of the test's accounts, filled by the ``client`` fixture: "admin" (dana),
# "eli" (a second admin) and "agent".
AUTH: dict[str, dict[str, str]] = {}

GIFT_CARDS = {
    "title": "Gift cards",
    "body": "Lumen gift cards come in 25, 50 and 100 euro and never expire.\n",
    "category": "billing",
    "tags": ["gift", "vouchers"],
    "language": "en",
    "status": "published",
    "by": "dana",
}


@pytest.fixture
async def client(
    aiohttp_client: Any, settings: Settings, db: object
) -> AsyncIterator[TestClient[Any, Any]]:
    client = await aiohttp_client(create_app(settings))
    maker = client.app[SERVICES].sessionmaker
    AUTH["admin"] = await bearer(maker, "admin", "dana@x.test", "dana")
    AUTH["eli"] = await bearer(maker, "admin", "eli@x.test", "eli")
    AUTH["agent"] = await bearer(maker, "agent", "agent@x.test")
    yield client


def services(client: TestClient[Any, Any]) -> Services:
    return client.app[SERVICES]


async def call(
    client: TestClient[Any, Any],
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    kwargs: dict[str, Any] = {"headers": AUTH["admin"] if headers is None else headers}
    if isinstance(body, str):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    response = await client.request(method, path, **kwargs)
    data = await response.json()
    assert response.status == status, data
    return data


# -- who may do what -------------------------------------------------------------------

WRITES = [
    ("POST", "/api/v1/articles", {"title": "x"}),
    ("PATCH", "/api/v1/articles/reset-password", {"title": "x"}),
    ("DELETE", "/api/v1/articles/reset-password", None),
    ("POST", "/api/v1/articles/reset-password/publish", None),
    ("POST", "/api/v1/articles/reset-password/unpublish", None),
    ("POST", "/api/v1/articles/preview", {"body": "x"}),
    ("GET", "/api/v1/kb/gaps", None),
    ("POST", "/api/v1/kb/gaps/draft", {"examples": ["x"]}),
    ("POST", "/api/v1/kb/eval", None),
]
READS = [
    ("GET", "/api/v1/articles", None),
    ("GET", "/api/v1/articles/reset-password", None),
    ("GET", "/api/v1/articles/reset-password/revisions", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES + READS)
async def test_no_token_is_401(
    client: TestClient[Any, Any], method: str, path: str, body: Any
) -> None:
    data = await call(client, method, path, body, headers={}, status=401)
    assert data["error"]["code"] == "unauthorized"
    wrong = {"Authorization": "Bearer not-a-token"}
    await call(client, method, path, body, headers=wrong, status=401)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_agent_token_is_403_on_admin_routes(
    client: TestClient[Any, Any], method: str, path: str, body: Any
) -> None:
    data = await call(client, method, path, body, headers=AUTH["agent"], status=403)
    assert data == {"error": {"code": "forbidden", "message": "this needs an admin account"}}
    article = await call(client, "GET", "/api/v1/articles/reset-password")
    assert article["article"]["version"] == 1  # nothing changed


@pytest.mark.parametrize(("method", "path", "body"), READS)
async def test_agents_and_admins_may_read(
    client: TestClient[Any, Any], method: str, path: str, body: Any
) -> None:
    await call(client, method, path, body, headers=AUTH["agent"])
    await call(client, method, path, body, headers=AUTH["admin"])


async def test_admin_may_use_the_agent_api(client: TestClient[Any, Any]) -> None:
    await call(client, "GET", "/api/v1/conversations?state=all", headers=AUTH["admin"])


# -- articles ----------------------------------------------------------------------------


async def test_create_read_update_with_history(client: TestClient[Any, Any]) -> None:
    created = (await call(client, "POST", "/api/v1/articles", GIFT_CARDS, status=201))["article"]
    assert created["slug"] == "gift-cards"  # made from the title
    assert created["version"] == 1 and created["updated_by"] == "dana"
    assert created["tags"] == ["gift", "vouchers"] and created["category"] == "billing"
    assert created["url"].endswith("/kb/gift-cards")

    got = (await call(client, "GET", "/api/v1/articles/gift-cards"))["article"]
    assert got["body"] == GIFT_CARDS["body"]

    # Partial: only the body changes; everything else stays.
    new_body = "Gift cards come in 25, 50 and 100 euro. They never expire.\n"
    updated = (
        await call(
            client, "PATCH", "/api/v1/articles/gift-cards", {"body": new_body}, headers=AUTH["eli"]
        )
    )["article"]
    assert updated["version"] == 2 and updated["updated_by"] == "eli"
    assert updated["body"] == new_body and updated["title"] == "Gift cards"
    assert updated["tags"] == ["gift", "vouchers"]

    unpublished = (await call(client, "POST", "/api/v1/articles/gift-cards/unpublish"))["article"]
    assert unpublished["status"] == "draft" and unpublished["updated_by"] == "dana"

    history = await call(
        client, "GET", "/api/v1/articles/gift-cards/revisions", headers=AUTH["agent"]
    )
    assert [(r["version"], r["by"], r["changed"]) for r in history["revisions"]] == [
        (3, "dana", ["status"]),
        (2, "eli", ["body"]),
        (1, "dana", ["created"]),
    ]
    assert all(r["at"] for r in history["revisions"])
    first = (await call(client, "GET", "/api/v1/articles/gift-cards/revisions/1"))["revision"]
    assert first["body"] == GIFT_CARDS["body"] and first["status"] == "published"
    await call(client, "GET", "/api/v1/articles/gift-cards/revisions/9", status=404)


async def test_list_filters(client: TestClient[Any, Any]) -> None:
    await call(client, "POST", "/api/v1/articles", GIFT_CARDS, status=201)
    await call(
        client,
        "POST",
        "/api/v1/articles",
        {"title": "Geschenkkarten", "body": "Gutscheine.", "language": "de", "tags": ["gift"]},
        status=201,
    )

    async def slugs(query: str) -> list[str]:
        data = await call(client, "GET", f"/api/v1/articles{query}", headers=AUTH["agent"])
        assert "body" not in data["articles"][0] if data["articles"] else True
        return sorted(a["slug"] for a in data["articles"])

    everything = await call(client, "GET", "/api/v1/articles")
    assert everything["total"] == 32 and "billing" in everything["categories"]
    assert await slugs("?status=draft") == ["geschenkkarten"]  # created as draft by default
    assert await slugs("?tag=GIFT") == ["geschenkkarten", "gift-cards"]
    assert await slugs("?tag=vouchers&status=published") == ["gift-cards"]
    assert await slugs("?language=de") == ["geschenkkarten"]
    assert await slugs("?q=never+expire") == ["gift-cards"]
    assert await slugs("?q=100%25") == []  # % is a literal, not a wildcard
    assert "gift-cards" in await slugs("?category=billing")
    data = await call(client, "GET", "/api/v1/articles?status=archived", status=400)
    assert "status" in data["error"]["message"]


async def test_publish_rename_and_conflicts(client: TestClient[Any, Any]) -> None:
    draft = {"title": "Gift cards", "body": "Cards never expire."}
    created = (await call(client, "POST", "/api/v1/articles", draft, status=201))["article"]
    assert created["status"] == "draft"
    assert (await call(client, "POST", "/api/v1/articles/gift-cards/publish"))["article"][
        "status"
    ] == "published"

    clash = await call(client, "POST", "/api/v1/articles", draft, status=409)
    assert clash["error"]["code"] == "conflict"

    stale = await call(
        client, "PATCH", "/api/v1/articles/gift-cards", {"title": "X", "version": 1}, status=409
    )
    assert "changed meanwhile" in stale["error"]["message"]

    renamed = await call(
        client, "PATCH", "/api/v1/articles/gift-cards", {"slug": "vouchers", "version": 2}
    )
    assert renamed["article"]["slug"] == "vouchers" and renamed["article"]["version"] == 3
    await call(client, "GET", "/api/v1/articles/gift-cards", status=404)
    hits = await services(client).kb.search("do gift cards expire?")
    assert hits[0].slug == "vouchers" and hits[0].url.endswith("/kb/vouchers")

    taken = await call(
        client, "PATCH", "/api/v1/articles/vouchers", {"slug": "reset-password"}, status=409
    )
    assert "already exists" in taken["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"title": "x" * 301}, 400, "title is longer than 300"),
        ({"body": "x" * (200 * 1024 + 1)}, 400, "body is larger than 200 KB"),
        ({"slug": "Not A Slug"}, 400, "slug"),
        ({"slug": "-bad-"}, 400, "slug"),
        ({"colour": "red"}, 400, "unknown field 'colour'"),
        ({"tags": [1, 2]}, 400, "tags"),
        ({"title": 5}, 400, "'title' must be a string"),
        ({"title": "   "}, 400, "title is empty"),
        ({"status": "archived"}, 400, "status"),
        ({"status": None}, 400, "status"),
        ({"language": "english please"}, 400, "language"),
        ({"version": "2"}, 400, "version"),
        ({"category": "c" * 101}, 400, "category"),
    ],
)
async def test_invalid_updates_change_nothing(
    client: TestClient[Any, Any], body: dict[str, Any], status: int, fragment: str
) -> None:
    before = (await call(client, "GET", "/api/v1/articles/reset-password"))["article"]
    data = await call(client, "PATCH", "/api/v1/articles/reset-password", body, status=status)
    assert fragment in data["error"]["message"]
    after = (await call(client, "GET", "/api/v1/articles/reset-password"))["article"]
    assert after == before
    async with services(client).sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(ArticleRevision))
    assert count == 30  # one per sample article, none half-written


async def test_bad_requests_and_unknown_articles(client: TestClient[Any, Any]) -> None:
    await call(client, "GET", "/api/v1/articles/no-such-thing", status=404)
    await call(client, "PATCH", "/api/v1/articles/no-such-thing", {"title": "x"}, status=404)
    await call(client, "DELETE", "/api/v1/articles/no-such-thing", status=404)
    await call(client, "POST", "/api/v1/articles/no-such-thing/publish", status=404)
    await call(client, "GET", "/api/v1/articles/Not_A_Slug", status=404)
    data = await call(client, "POST", "/api/v1/articles", "not json", status=400)
    assert data["error"]["code"] == "bad_json"
    await call(client, "POST", "/api/v1/articles", {"body": "no title"}, status=400)
    big = {"title": "Big", "body": "x" * (1024 * 1024)}
    assert (await call(client, "POST", "/api/v1/articles", big, status=413))["error"][
        "code"
    ] == "too_large"


async def test_large_body_within_limit_is_stored_whole(client: TestClient[Any, Any]) -> None:
    # Several network reads: the whole body must arrive, not the first chunk.
    body = ("Paragraph about lamps. " * 40 + "\n\n") * 200
    assert 150_000 < len(body.encode()) < 200 * 1024
    created = await call(
        client, "POST", "/api/v1/articles", {"title": "Long one", "body": body}, status=201
    )
    assert created["article"]["body"] == body.strip() + "\n"


async def test_delete_removes_from_answers_at_once(client: TestClient[Any, Any]) -> None:
    kb = services(client).kb
    await call(client, "POST", "/api/v1/articles", GIFT_CARDS, status=201)
    answer = await kb.answer("do lumen gift cards expire?")
    assert answer.best is not None and answer.best.slug == "gift-cards"

    assert await call(client, "DELETE", "/api/v1/articles/gift-cards", {"by": "dana"}) == {
        "deleted": "gift-cards"
    }
    assert all(h.slug != "gift-cards" for h in await kb.search("gift cards expire", k=20))
    after = await kb.answer("do lumen gift cards expire?")
    assert after.best is None or after.best.slug != "gift-cards"
    await call(client, "GET", "/api/v1/articles/gift-cards", status=404)


async def test_preview_is_safe_html(client: TestClient[Any, Any]) -> None:
    body = "## Steps\n\n**Bold** <script>alert(1)</script> [x](javascript:alert(1))\n"
    html = (await call(client, "POST", "/api/v1/articles/preview", {"body": body}))["html"]
    assert '<h2 id="steps">Steps</h2>' in html and "<strong>Bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    await call(client, "POST", "/api/v1/articles/preview", {"body": 5}, status=400)


# -- gaps ---------------------------------------------------------------------------------

WIFI_QUESTIONS = [
    "can I use the lamp with a 5 GHz wifi network?",
    "does the lamp support 5ghz wi-fi",
    "lamp won't connect to my 5 GHz router",
]
OLD_QUESTION = "how do I descale the kettle"
GIFT_QUESTIONS = [
    "do you sell gift cards?",
    "can I buy a gift voucher for a friend",
]


async def record_gaps(svc: Services) -> None:
    """Timeline events as the router writes them, one contact per question."""
    async with unit_of_work(svc.sessionmaker, svc.bus) as session:
        for i, question in enumerate(WIFI_QUESTIONS + GIFT_QUESTIONS):
            identity = await actions.resolve_identity(session, "test", f"gap-{i}")
            conversation = await actions.current_conversation(session, identity)
            await actions.record_message(session, conversation, Author.CONTACT, question)
            actions.add_timeline(
                session,
                conversation.contact_id,
                "unanswered",
                conversation.id,
                question=question,
                confidence=0.2,
            )
            if i == 0:  # the same question, escalated later: one ask, two signals
                conversation.last_question = question
                await actions.escalate(
                    session, conversation, reason="low_confidence", subject=question
                )
        # A request for a person is no question the knowledge base lacks.
        identity = await actions.resolve_identity(session, "test", "gap-human")
        conversation = await actions.current_conversation(session, identity)
        await actions.escalate(
            session, conversation, reason="customer_request", subject="agent please"
        )
        # Asked long ago: outside the default look-back.
        old = actions.add_timeline(
            session, conversation.contact_id, "unanswered", conversation.id, question=OLD_QUESTION
        )
        old.created_at = utcnow() - dt.timedelta(days=200)


async def test_gaps_group_similar_questions_biggest_first(client: TestClient[Any, Any]) -> None:
    await record_gaps(services(client))
    data = await call(client, "GET", "/api/v1/kb/gaps")
    topics = data["topics"]
    assert [t["count"] for t in topics] == [3, 2]
    wifi, gift = topics
    assert set(wifi["examples"]) == set(WIFI_QUESTIONS)
    assert wifi["signals"] == {"unanswered": 3, "escalated": 1}
    assert set(gift["examples"]) == set(GIFT_QUESTIONS)
    assert wifi["title"] == wifi["examples"][0]
    assert all(t["id"] and t["last_seen"] for t in topics)
    assert "agent please" not in str(topics)

    assert OLD_QUESTION not in str(topics)
    year = await call(client, "GET", "/api/v1/kb/gaps?days=365")
    assert year["total"] == 3 and year["topics"][-1]["title"] == OLD_QUESTION
    await call(client, "GET", "/api/v1/kb/gaps?days=0", status=400)
    await call(client, "GET", "/api/v1/kb/gaps?limit=x", status=400)


async def test_draft_from_a_topic_or_examples(client: TestClient[Any, Any]) -> None:
    await record_gaps(services(client))
    topics = (await call(client, "GET", "/api/v1/kb/gaps"))["topics"]
    made = await call(
        client, "POST", "/api/v1/kb/gaps/draft", {"topic": topics[0]["id"]}, status=201
    )
    article = made["article"]
    assert made["slug"] == article["slug"]
    assert article["status"] == "draft" and article["tags"] == ["from-gaps"]
    assert article["title"] == topics[0]["title"][0].upper() + topics[0]["title"][1:]
    for question in WIFI_QUESTIONS:
        assert question.replace("?", "") in article["body"].replace("\\", "")
    # A draft is not answered from.
    assert all(h.slug != article["slug"] for h in await services(client).kb.search("5 GHz"))

    again = await call(
        client, "POST", "/api/v1/kb/gaps/draft", {"examples": topics[0]["examples"]}, status=201
    )
    assert again["slug"] == f"{article['slug']}-2"  # never overwrites the first draft

    await call(client, "POST", "/api/v1/kb/gaps/draft", {"topic": "nope"}, status=404)
    await call(client, "POST", "/api/v1/kb/gaps/draft", {}, status=400)
    await call(client, "POST", "/api/v1/kb/gaps/draft", {"examples": [""]}, status=400)
    await call(client, "POST", "/api/v1/kb/gaps/draft", {"examples": ["x"] * 51}, status=400)


# -- evaluation --------------------------------------------------------------------------


async def test_eval_on_the_sample_and_on_an_uploaded_csv(client: TestClient[Any, Any]) -> None:
    sample = (await call(client, "POST", "/api/v1/kb/eval"))["report"]
    assert sample["cases"] == 148
    assert sample["hit_at_1"] >= 0.88 and sample["hit_at_5"] >= 0.95 and sample["mrr"] >= 0.92
    assert sample["answered"] >= 0.9 and sample["answered_right"] >= 0.88
    assert sample["threshold"] == 0.5

    csv_text = "question,expected\nhow do I reset my password?,reset-password\nx,no-such-slug\n"
    mine = (await call(client, "POST", "/api/v1/kb/eval", csv_text))["report"]
    assert mine["cases"] == 2 and mine["hit_at_1"] == 0.5
    assert mine["unknown_slugs"] == ["no-such-slug"]

    bad = await call(client, "POST", "/api/v1/kb/eval", "a,b\n1,2\n", status=400)
    assert "question" in bad["error"]["message"]
    await call(client, "POST", "/api/v1/kb/eval", "question,expected\n", status=400)
    huge_header = "q" * 140_000 + ",expected\nx,y\n"
    await call(client, "POST", "/api/v1/kb/eval", huge_header, status=400)
    await call(client, "POST", "/api/v1/kb/eval", "x" * (600 * 1024), status=413)


async def test_revision_timestamps_are_utc(client: TestClient[Any, Any]) -> None:
    history = await call(client, "GET", "/api/v1/articles/reset-password/revisions")
    at = dt.datetime.fromisoformat(history["revisions"][0]["at"])
    assert at.utcoffset() == dt.timedelta(0)
