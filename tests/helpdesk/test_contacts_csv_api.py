"""The admins' CSV routes on the real app: agents refused, an upload queued and run by
the service's worker to the end with its row errors, oversized bodies 413, unusable
files 400 with the reason, and the export streamed as CSV."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from omnidesk.helpdesk.contacts_csv import MAX_FILE_BYTES
from tests.helpdesk import test_policies_api as admin_api_tests

AUTH, client = admin_api_tests.AUTH, admin_api_tests.client
BASE = "/api/v1/contacts"
GOOD = "name,email,tags\nAda,ada@example.com,vip\nBad,nope,\nBob,bob@example.com,\n"


async def wait_done(client: TestClient[Any, Any], import_id: int) -> dict[str, Any]:
    for _ in range(300):
        resp = await client.get(f"{BASE}/imports/{import_id}", headers=AUTH["admin"])
        body: dict[str, Any] = await resp.json()
        assert resp.status == 200, body
        if body["import"]["status"] in ("done", "failed"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError("the import never ended")


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", f"{BASE}/imports"), ("GET", f"{BASE}/imports/1"), ("GET", f"{BASE}/export.csv")],
)
async def test_agents_are_refused(client: TestClient[Any, Any], method: str, path: str) -> None:
    resp = await client.request(method, path, data=GOOD, headers=AUTH["agent"])
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"


async def test_an_upload_runs_to_the_end_with_its_row_errors(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        f"{BASE}/imports?filename=people.csv",
        data=GOOD.encode(),
        headers={**AUTH["admin"], "Content-Type": "text/csv"},
    )
    body = await resp.json()
    assert resp.status == 202, body
    assert body["import"]["total"] == 3 and body["import"]["filename"] == "people.csv"
    assert body["columns"] == {"used": ["name", "email", "tags"], "ignored": []}
    done = await wait_done(client, body["import"]["id"])
    assert done["import"]["status"] == "done"
    counts = {k: done["import"][k] for k in ("processed", "created", "updated", "failed")}
    assert counts == {"processed": 3, "created": 2, "updated": 0, "failed": 1}
    assert done["errors_total"] == 1
    assert done["errors"][0]["row"] == 3 and "email address" in done["errors"][0]["reason"]

    export = await client.get(f"{BASE}/export.csv?tag=vip", headers=AUTH["admin"])
    assert export.status == 200
    assert export.headers["Content-Type"].startswith("text/csv")
    lines = (await export.text()).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,name,email,emails,phone,phones,company,tags,notes")
    assert [line.split(",")[1:3] for line in lines[1:]] == [["Ada", "ada@example.com"]]


async def test_a_form_upload_is_read_from_its_file_field(client: TestClient[Any, Any]) -> None:
    form = FormData()
    form.add_field("note", "ignored")
    form.add_field("file", GOOD.encode(), filename="from-form.csv", content_type="text/csv")
    resp = await client.post(f"{BASE}/imports", data=form, headers=AUTH["admin"])
    body = await resp.json()
    assert resp.status == 202, body
    assert body["import"]["filename"] == "from-form.csv"
    assert (await wait_done(client, body["import"]["id"]))["import"]["created"] == 2


async def test_too_large_is_413(client: TestClient[Any, Any]) -> None:
    big = b"email\n" + b"a@b.test\n" * (MAX_FILE_BYTES // 9 + 10)
    resp = await client.post(
        f"{BASE}/imports", data=big, headers={**AUTH["admin"], "Content-Type": "text/csv"}
    )
    assert resp.status == 413
    form = FormData()
    form.add_field("file", big, filename="big.csv", content_type="text/csv")
    resp = await client.post(f"{BASE}/imports", data=form, headers=AUTH["admin"])
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "not text"),
        (b"name\nAda\n", "'email' or 'phone' column"),
        (b"email\n", "no rows"),
    ],
)
async def test_unusable_files_are_400_with_the_reason(
    client: TestClient[Any, Any], data: bytes, reason: str
) -> None:
    resp = await client.post(
        f"{BASE}/imports", data=data, headers={**AUTH["admin"], "Content-Type": "text/csv"}
    )
    body = await resp.json()
    assert resp.status == 400, body
    assert body["error"]["code"] == "invalid_csv" and reason in body["error"]["message"]


async def test_bad_requests(client: TestClient[Any, Any]) -> None:
    form = FormData()
    form.add_field("other", b"email\na@b.test\n", filename="x.csv")
    resp = await client.post(f"{BASE}/imports", data=form, headers=AUTH["admin"])
    assert resp.status == 400 and "'file'" in (await resp.json())["error"]["message"]
    assert (await client.get(f"{BASE}/imports/424242", headers=AUTH["admin"])).status == 404
    assert (await client.get(f"{BASE}/imports/99999999999", headers=AUTH["admin"])).status == 404
    resp = await client.get(f"{BASE}/export.csv?q={'x' * 201}", headers=AUTH["admin"])
    assert resp.status == 400
