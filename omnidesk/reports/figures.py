"""The figures of one report row, added up from each query and shown as JSON: counts,
business minutes (median and average), SLA met and missed, CSAT scores, surveys asked
and the NPS (shown only where the NPS survey is on)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from omnidesk.reports.nps import nps_summary

SLA_TARGETS = ("first_response", "resolution")
CSAT_SCORES = (1, 2, 3, 4, 5)


@dataclass(slots=True)
class Figures:
    """One row's figures; ``merge`` adds another row's (for totals)."""

    conversations: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    handoffs: Counter[str] = field(default_factory=Counter)
    confirmed: int = 0
    assumed: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    sla: dict[str, list[int]] = field(
        default_factory=lambda: {name: [0, 0] for name in SLA_TARGETS}
    )
    csat: Counter[int] = field(default_factory=Counter)
    resolved: int = 0
    csat_asked: int = 0
    csat_answered: int = 0
    nps: Counter[int] = field(default_factory=Counter)
    nps_sent: int = 0

    def merge(self, other: Figures) -> None:
        self.conversations += other.conversations
        self.messages.update(other.messages)
        self.handoffs.update(other.handoffs)
        self.confirmed += other.confirmed
        self.assumed += other.assumed
        self.first_response.extend(other.first_response)
        self.resolution.extend(other.resolution)
        for name in SLA_TARGETS:
            self.sla[name] = [a + b for a, b in zip(self.sla[name], other.sla[name], strict=True)]
        self.csat.update(other.csat)
        self.resolved += other.resolved
        self.csat_asked += other.csat_asked
        self.csat_answered += other.csat_answered
        self.nps.update(other.nps)
        self.nps_sent += other.nps_sent

    def to_dict(self, *, nps: bool = False) -> dict[str, Any]:
        """The row as JSON; with ``nps`` its NPS figures too."""
        rated = sum(self.csat.values())
        deflected = self.confirmed + self.assumed
        return {
            "conversations": self.conversations,
            "messages": {a: self.messages.get(a, 0) for a in ("contact", "bot", "agent")},
            "deflection": {
                "confirmed": self.confirmed,
                "assumed": self.assumed,
                "share": _ratio(deflected, self.conversations),
            },
            "handoffs": dict(sorted(self.handoffs.items())),
            "handoffs_total": sum(self.handoffs.values()),
            "first_response_minutes": _minutes(self.first_response),
            "resolution_minutes": _minutes(self.resolution),
            "sla": {
                name: {"met": met, "missed": missed, "attainment": _ratio(met, met + missed)}
                for name, (met, missed) in self.sla.items()
            },
            "csat": {
                "average": round(sum(s * n for s, n in self.csat.items()) / rated, 2)
                if rated
                else None,
                "distribution": {str(s): self.csat.get(s, 0) for s in CSAT_SCORES},
                "rated": rated,
                "resolved": self.resolved,
                "asked": self.csat_asked,
                "answered": self.csat_answered,
                # Answered over asked (the survey throttle asks only some resolutions);
                # where no ask was recorded (before surveys were), every resolution asked.
                "response_rate": _ratio(self.csat_answered, self.csat_asked)
                if self.csat_asked
                else _ratio(rated, self.resolved),
            },
            **({"nps": nps_summary(self.nps, self.nps_sent)} if nps else {}),
        }


Rows = defaultdict[str, Figures]


def new_rows() -> Rows:
    return defaultdict(Figures)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _minutes(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "average": None}
    return {
        "count": len(values),
        "median": round(statistics.median(values), 1),
        "average": round(statistics.fmean(values), 1),
    }
