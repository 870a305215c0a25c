"""Token buckets: how often one socket, visitor, address or account may do something.

A ``Bucket`` is one allowance; ``Buckets`` holds one per key (a visitor id, an IP
address) and forgets the oldest when it holds too many, so a stranger inventing keys
cannot grow it without bound. Per process: with several processes each enforces its own
share, which bounds a flood just the same.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class Bucket:
    """``burst`` actions at once, refilled at ``per_second``."""

    __slots__ = ("burst", "per_second", "stamp", "tokens")

    def __init__(self, burst: float, per_second: float) -> None:
        self.burst, self.per_second = float(burst), per_second
        self.tokens, self.stamp = float(burst), time.monotonic()

    def has_room(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        return self.tokens >= cost

    def take(self, cost: float = 1.0) -> bool:
        if not self.has_room(cost):
            return False
        self.tokens -= cost
        return True

    def retry_after(self) -> float:
        """Seconds until the next action is allowed."""
        return max(0.0, (1.0 - self.tokens) / self.per_second) if self.per_second else 60.0


def take_all(*buckets: Bucket) -> bool:
    """One action charged to every bucket, or to none when any of them is empty."""
    if not all(b.has_room() for b in buckets):
        return False
    for b in buckets:
        b.tokens -= 1
    return True


class Buckets:
    """One ``Bucket`` per key, the least recently used forgotten past ``max_keys``."""

    def __init__(self, burst: float, per_second: float, *, max_keys: int = 50_000) -> None:
        self.burst, self.per_second, self.max_keys = burst, per_second, max_keys
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def bucket(self, key: str) -> Bucket:
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = Bucket(self.burst, self.per_second)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return found

    def take(self, key: str, cost: float = 1.0) -> bool:
        return self.bucket(key).take(cost)
