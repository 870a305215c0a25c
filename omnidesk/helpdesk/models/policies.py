"""What admins configure without code: escalation rules, SLA policies and business
hours. ``escalation/`` reads them to decide; helpdesk actions write them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from omnidesk.db import Base, utcnow


class EscalationRule(Base):
    """One handoff rule. ``trigger`` names the kind (``keyword``, ``attribute``,
    ``channel``, ``customer_request``, ``unsure``, ``not_helpful``); ``condition`` holds
    its parameters; a match hands over with ``reason``, ``priority`` and ``team_id``."""

    __tablename__ = "escalation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    trigger: Mapped[str] = mapped_column(String(32))
    condition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str] = mapped_column(String(64), default="")
    priority: Mapped[str | None] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BusinessCalendar(Base):
    """Business hours: ``weekly`` maps ``mon``..``sun`` to ``[["09:00", "17:00"], ...]``
    periods in ``timezone``; ``holidays`` lists ``YYYY-MM-DD`` days off."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    weekly: Mapped[dict[str, Any]] = mapped_column(default=dict)
    holidays: Mapped[list[Any]] = mapped_column(default=list)


class SlaPolicy(Base):
    """Targets for one priority, counted in the calendar's business hours (every hour
    counts without one)."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), unique=True)
    first_response_minutes: Mapped[int] = mapped_column()
    resolution_minutes: Mapped[int] = mapped_column()
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="SET NULL")
    )
