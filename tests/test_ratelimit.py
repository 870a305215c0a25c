"""Token buckets: bursts, refill, charging several at once, and a bounded key table."""

from __future__ import annotations

import time

import pytest

from omnidesk.ratelimit import Bucket, Buckets, take_all


def test_a_burst_then_nothing_until_refilled(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    bucket = Bucket(3, 0.5)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() == pytest.approx(2.0)
    now[0] += 2.0
    assert bucket.take() and not bucket.take()
    now[0] += 100.0  # refill stops at the burst
    assert sum(bucket.take() for _ in range(10)) == 3


def test_take_all_charges_every_bucket_or_none() -> None:
    roomy, empty = Bucket(5, 0.0), Bucket(1, 0.0)
    assert take_all(roomy, empty)
    assert not take_all(roomy, empty)
    assert roomy.tokens == 4  # the refused action cost nothing


def test_buckets_per_key_forget_the_oldest() -> None:
    buckets = Buckets(1, 0.0, max_keys=3)
    assert buckets.take("a") and not buckets.take("a")
    for key in ("b", "c", "d"):
        assert buckets.take(key)
    # "a" was the least recently used: forgotten, so it starts full again.
    assert buckets.take("a")
    assert len(buckets._buckets) == 3
