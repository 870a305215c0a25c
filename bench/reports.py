"""Report latency on PostgreSQL over a year of generated support: each report the API
serves (``omnidesk.reports``: the overview per day, week and month, with and without
filters, the breakdowns per team, agent, channel and label, and the handoff-ending
articles of ``/topics``) timed over the whole year, several runs each.

    python bench/reports.py --pg-url postgresql+asyncpg://postgres@127.0.0.1/bench
    python bench/reports.py --conversations 20000 --runs 3

The database's public schema is DROPPED and rebuilt through the real migrations, then
filled in SQL (``generate_series``): contacts and identities, conversations over 2025
in four channels, about five messages each (customer, bot answers citing one of 40
articles, agents; the customer's second message comes 10 minutes after the answer in
60% of them, two days later in the rest), with the facts ``record_message`` keeps,
tickets for 30% with business-hours SLA due times in a Berlin
calendar (10% reopened, half rated), escalation and feedback events, labels on 30%.
Prints a table and writes JSON (default bench/results/reports.json). Target: every
report under a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import pct, table, write_result
from omnidesk.bot.migrate import upgrade
from omnidesk.db import create_engine, sessionmaker
from omnidesk.reports import breakdown, handoff_articles, overview, parse_query

YEAR = {"from": "2025-01-01", "to": "2025-12-31", "tz": "Europe/Berlin"}
TEAMS, AGENTS, ARTICLES, LABELS = 8, 40, 40, 10

GENERATE = [
    "SELECT setseed(0.42)",
    """INSERT INTO business_calendars (id, name, timezone, weekly, holidays)
       VALUES (1, 'Berlin', 'Europe/Berlin',
       '{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]], "wed": [["09:00","17:00"]],
         "thu": [["09:00","17:00"]], "fri": [["09:00","17:00"]]}', '[]')""",
    f"""INSERT INTO teams (id, name, description, assignment, calendar_id, created_at)
        SELECT i, 'Team ' || i, '', 'round_robin', 1, now() FROM generate_series(1, {TEAMS}) i""",
    f"""INSERT INTO agents (id, name, email, password_hash, role, skills, capacity,
        availability, active, created_at)
        SELECT i, 'Agent ' || i, 'agent' || i || '@bench.test', '-', 'agent', '[]', 5,
        'offline', true, now() FROM generate_series(1, {AGENTS}) i""",
    """INSERT INTO contacts (id, name, attributes, created_at)
       SELECT i, 'Customer ' || i, '{}', now() FROM generate_series(1, :n) i""",
    """INSERT INTO channel_identities (id, contact_id, channel, external_id, created_at)
       SELECT i, i, (ARRAY['webchat','email','slack','telegram'])[1 + i % 4], 'v' || i, now()
       FROM generate_series(1, :n) i""",
    f"""INSERT INTO conversations (id, contact_id, identity_id, channel, thread_key, state,
        priority, low_confidence_streak, created_at, updated_at, team_id, assignee_id)
        SELECT i, i, i, (ARRAY['webchat','email','slack','telegram'])[1 + i % 4], '',
        'resolved', 'normal', 0, t, t,
        CASE WHEN i % 10 < 3 THEN 1 + i % {TEAMS} END,
        CASE WHEN i % 10 < 3 THEN 1 + (i / 10) % {AGENTS} END
        FROM (SELECT i, timestamptz '2025-01-01 00:00+00' + random() * interval '365 days' t
              FROM generate_series(1, :n) i) s""",
    """INSERT INTO messages (conversation_id, author, private, text, payload, created_at)
       SELECT c.id, m.author, false, 'message', m.payload::json, c.created_at + m.after
       FROM conversations c CROSS JOIN LATERAL (VALUES
         ('contact', '{}', interval '0'),
         ('bot', '{"citations": [{"slug": "article-' || c.id % 40 || '", "title": "Article '
                 || c.id % 40 || '", "url": "/kb/article-' || c.id % 40 || '"}]}',
          interval '5 seconds'),
         ('contact', '{}', CASE WHEN c.id % 5 < 3 THEN interval '10 minutes'
                                ELSE interval '2 days' END),
         ('bot', '{}', CASE WHEN c.id % 5 < 3 THEN interval '10 minutes 5 seconds'
                            ELSE interval '2 days 5 seconds' END)) m(author, payload, after)""",
    """INSERT INTO messages (conversation_id, author, author_id, private, text, payload,
       created_at)
       SELECT c.id, 'agent', c.assignee_id, false, 'reply', '{}',
       c.created_at + (k * 30 + (random() * 600)::int) * interval '1 minute'
       FROM conversations c CROSS JOIN generate_series(1, 2) k WHERE c.assignee_id IS NOT NULL""",
    """INSERT INTO tickets (conversation_id, contact_id, subject, state, priority, assignee,
       assignee_id, team_id, reason, created_at, first_response_at, resolved_at,
       first_response_due_at, resolution_due_at, reopened_at, reopen_count, csat_score,
       csat_at)
       SELECT c.id, c.contact_id, 'question', 'resolved', 'normal', 'Agent', c.assignee_id,
       c.team_id, (ARRAY['customer_request','unsure','not_helpful','keyword','error'])
       [1 + c.id % 5], c.created_at + interval '11 minutes',
       c.created_at + interval '11 minutes' + (random() * 600)::int * interval '1 minute',
       c.created_at + interval '11 minutes' + (600 + random() * 4000)::int * interval '1 minute',
       c.created_at + interval '71 minutes', c.created_at + interval '3 days',
       CASE WHEN c.id % 10 = 0 THEN c.created_at + interval '2 days' END,
       CASE WHEN c.id % 10 = 0 THEN 1 ELSE 0 END,
       CASE WHEN c.id % 2 = 0 THEN 1 + (c.id / 2) % 5 END,
       CASE WHEN c.id % 2 = 0 THEN c.created_at + interval '4 days' END
       FROM conversations c WHERE c.assignee_id IS NOT NULL""",
    """INSERT INTO timeline_events (contact_id, conversation_id, kind, data, created_at)
       SELECT t.contact_id, t.conversation_id, 'escalated',
       json_build_object('reason', t.reason, 'ticket_id', t.id, 'team_id', t.team_id),
       t.created_at FROM tickets t""",
    """INSERT INTO timeline_events (contact_id, conversation_id, kind, data, created_at)
       SELECT c.contact_id, c.id, 'feedback',
       json_build_object('helpful', c.id % 5 <> 1, 'question', 'question ' || c.id % 97),
       c.created_at + interval '1 minute' FROM conversations c WHERE c.id % 5 IN (1, 2)""",
    # The facts record_message keeps on each conversation.
    """UPDATE conversations c SET contact_messages = f.contact, bot_messages = f.bot,
       agent_messages = f.agent, last_answer_at = f.answered
       FROM (SELECT conversation_id,
               count(*) FILTER (WHERE author = 'contact') contact,
               count(*) FILTER (WHERE author = 'bot') bot,
               count(*) FILTER (WHERE author = 'agent') agent,
               max(created_at) FILTER (WHERE author = 'bot'
                                       AND payload::text LIKE '%"citations"%') answered
             FROM messages GROUP BY conversation_id) f
       WHERE f.conversation_id = c.id""",
    """UPDATE conversations c SET answer_followed_at = f.t
       FROM (SELECT m.conversation_id, min(m.created_at) t FROM messages m
             JOIN conversations o ON o.id = m.conversation_id
             WHERE m.author = 'contact' AND m.created_at > o.last_answer_at
             GROUP BY m.conversation_id) f
       WHERE f.conversation_id = c.id""",
    f"""INSERT INTO conversation_labels (conversation_id, label)
        SELECT c.id, 'label-' || c.id % {LABELS} FROM conversations c WHERE c.id % 10 >= 7""",
    "ANALYZE",
]

REPORTS: list[tuple[str, dict[str, str], str | None]] = [
    ("overview day", {"group": "day"}, None),
    ("overview week", {"group": "week"}, None),
    ("overview month", {"group": "month"}, None),
    ("overview day, team 3", {"group": "day", "team": "3"}, None),
    ("overview day, agent 7", {"group": "day", "agent": "7"}, None),
    ("overview day, label", {"group": "day", "label": "label-8"}, None),
    ("teams", {}, "team"),
    ("agents", {}, "agent"),
    ("channels", {}, "channel"),
    ("labels", {}, "label"),
    ("topics: handoff articles", {}, "articles"),
]


async def generate(url: str, n: int) -> float:
    import asyncpg

    from tests.conftest import reset_postgres

    await reset_postgres(url)
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    started = time.perf_counter()
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        for sql in GENERATE:
            await conn.execute(sql.replace(":n", str(int(n))))
    finally:
        await conn.close()
    return time.perf_counter() - started


async def counts(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        tables = ("conversations", "messages", "tickets", "timeline_events")
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}
    finally:
        await conn.close()


async def measure(url: str, runs: int) -> list[dict[str, Any]]:
    engine = create_engine(url)
    make = sessionmaker(engine)
    results = []
    try:
        for name, params, by in REPORTS:
            query = parse_query({**YEAR, **params}, default_tz="UTC")
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                if by is None:
                    await overview(make, query)
                elif by == "articles":
                    async with make() as session:
                        await handoff_articles(session, query)
                else:
                    await breakdown(make, query, by)
                times.append(time.perf_counter() - started)
            results.append(
                {
                    "report": name,
                    "runs": runs,
                    "p50_ms": pct(times, 50) * 1000,
                    "p95_ms": pct(times, 95) * 1000,
                    "max_ms": max(times) * 1000,
                }
            )
            print(f"{name}: p50 {results[-1]['p50_ms']:.0f} ms", flush=True)
    finally:
        await engine.dispose()
    return results


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    load_s = 0.0 if args.reuse else await generate(args.pg_url, args.conversations)
    sizes = await counts(args.pg_url)
    print(f"generated {sizes} in {load_s:.0f} s", flush=True)
    load_before = os.getloadavg()[0]
    rows = await measure(args.pg_url, args.runs)
    load = (load_before + os.getloadavg()[0]) / 2
    return {"sizes": sizes, "load_s": load_s, "load_average": load, "rows": rows}


def main() -> None:
    default_pg = os.environ.get(
        "OMNIDESK_BENCH_DATABASE_URL", os.environ.get("OMNIDESK_TEST_DATABASE_URL", "")
    )
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg-url", default=default_pg, help="a database this bench may wipe")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--reuse", action="store_true", help="time the data a previous run generated"
    )
    args = parser.parse_args()
    if not args.pg_url:
        parser.error("PostgreSQL needs --pg-url or $OMNIDESK_BENCH_DATABASE_URL")
    result = asyncio.run(main_async(args))
    columns = [
        ("report", "report", "s"),
        ("runs", "runs", "d"),
        ("p50_ms", "p50 ms", ".0f"),
        ("p95_ms", "p95 ms", ".0f"),
        ("max_ms", "max ms", ".0f"),
    ]
    print(table(result["rows"], columns))
    path = write_result("reports", {"conversations": args.conversations, **result}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
