"""What a report is asked for: a range of local dates in a time zone, how to group it
(day, week or month, or one dimension), and filters by team, agent, channel and label.
Everything comes from a query string, so every value is checked here and a wrong one is
a ``ReportError`` the API answers with a 400."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("day", "week", "month")
DIMENSIONS = ("team", "agent", "channel", "label")
MAX_DAYS = 400
DEFAULT_DAYS = 30
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$")
_TEXT = re.compile(r"^[\w.:\- ]{1,64}$")


class ReportError(ValueError):
    """A report parameter is wrong; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """One report's range (``start`` inclusive, ``end`` exclusive, UTC instants of
    local midnights), its grouping and its filters."""

    first_day: dt.date
    last_day: dt.date
    zone: ZoneInfo
    group: str = "day"
    team_id: int | None = None
    agent_id: int | None = None
    channel: str | None = None
    label: str | None = None

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last_day + dt.timedelta(days=1), self.zone)

    def to_dict(self) -> dict[str, object]:
        return {
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "tz": self.zone.key,
            "group": self.group,
            "team": self.team_id,
            "agent": self.agent_id,
            "channel": self.channel,
            "label": self.label,
        }


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant a local day starts (a day that starts in a DST gap starts at the
    first minute that exists)."""
    naive = dt.datetime.combine(day, dt.time())
    instant = naive.replace(tzinfo=zone).astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        instant = naive.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    return instant


def parse_zone(name: str) -> ZoneInfo:
    if not _ZONE.match(name):
        raise ReportError("'tz' must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"unknown time zone {name!r}") from None


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ReportError(f"'{name}' must be a date, YYYY-MM-DD") from None


def _id(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ReportError(f"'{name}' must be a positive id")
    return int(raw)


def _text(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not _TEXT.match(raw):
        raise ReportError(f"'{name}' must be 1 to 64 letters, digits, spaces or . : _ -")
    return raw


def parse_query(
    params: Mapping[str, str], *, default_tz: str, today: dt.date | None = None
) -> ReportQuery:
    """The report a query string asks for (``from``, ``to``, ``group``, ``tz``,
    ``team``, ``agent``, ``channel``, ``label``); the last 30 days by default."""
    zone = parse_zone(params.get("tz", "").strip() or default_tz)
    today = today or dt.datetime.now(zone).date()
    last = _date(params, "to") or today
    first = _date(params, "from") or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ReportError("'from' must not be after 'to'")
    if (last - first).days + 1 > MAX_DAYS:
        raise ReportError(f"a report covers at most {MAX_DAYS} days")
    group = params.get("group", "").strip() or "day"
    if group not in PERIODS:
        raise ReportError(f"'group' must be one of {', '.join(PERIODS)}")
    return ReportQuery(
        first,
        last,
        zone,
        group,
        team_id=_id(params, "team"),
        agent_id=_id(params, "agent"),
        channel=_text(params, "channel"),
        label=_text(params, "label"),
    )
