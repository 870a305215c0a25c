"""Who views which conversation, across processes: each process announces its own
viewers on the event bus and keeps everyone's, forgetting those not announced lately
(a process that died takes its viewers with it)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

REFRESH_S = 20.0
EXPIRE_S = 3 * REFRESH_S


@dataclass(frozen=True, slots=True)
class Viewer:
    """One socket viewing a conversation; ``key`` is unique across processes."""

    key: str
    agent_id: int | None
    name: str

    def as_event(self, conversation_id: int, on: bool) -> dict[str, Any]:
        return {
            "conversation_id": conversation_id,
            "key": self.key,
            "agent_id": self.agent_id,
            "name": self.name,
            "on": on,
        }


class Presence:
    """Viewers per conversation with their expiry (monotonic clock of this process)."""

    def __init__(self, expire_s: float = EXPIRE_S) -> None:
        self._expire_s = expire_s
        self._seen: dict[int, dict[str, tuple[Viewer, float]]] = {}

    def apply(self, data: dict[str, Any]) -> int | None:
        """Record a ``presence`` event; the conversation whose viewers changed, if any."""
        conversation_id, key = data.get("conversation_id"), data.get("key")
        if not isinstance(conversation_id, int) or not isinstance(key, str):
            return None
        agent_id = data.get("agent_id")
        viewer = Viewer(
            key,
            agent_id if isinstance(agent_id, int) else None,
            str(data.get("name") or "Agent")[:200],
        )
        viewers = self._seen.setdefault(conversation_id, {})
        if data.get("on"):
            changed = key not in viewers
            viewers[key] = (viewer, time.monotonic() + self._expire_s)
        else:
            changed = viewers.pop(key, None) is not None
            if not viewers:
                del self._seen[conversation_id]
        return conversation_id if changed else None

    def prune(self) -> list[int]:
        """Forget viewers not announced in time; the conversations that changed."""
        now = time.monotonic()
        changed = []
        for conversation_id, viewers in list(self._seen.items()):
            stale = [key for key, (_, until) in viewers.items() if until < now]
            for key in stale:
                del viewers[key]
            if stale:
                changed.append(conversation_id)
            if not viewers:
                del self._seen[conversation_id]
        return changed

    def viewers(self, conversation_id: int) -> list[dict[str, Any]]:
        """``[{id, name}]``: one entry per agent, however many tabs they have open."""
        out: dict[object, dict[str, Any]] = {}
        for viewer, _ in self._seen.get(conversation_id, {}).values():
            who = viewer.agent_id if viewer.agent_id is not None else viewer.key
            out.setdefault(who, {"id": viewer.agent_id, "name": viewer.name})
        return sorted(out.values(), key=lambda v: (v["name"], v["id"] or 0))

    def conversations(self) -> list[int]:
        return list(self._seen)
