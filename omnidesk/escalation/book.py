"""The rules in force: database rules (in their admin-set order), then the TOML ones,
then the built-in ones. Loaded on first use and kept until a ``rules_changed`` event
says an admin changed them."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.config import EscalationSettings
from omnidesk.escalation.rules import Rule, builtin_rules, rule_from_row, rule_from_settings
from omnidesk.helpdesk import EscalationRule, Event, Team

log = logging.getLogger(__name__)

RULES_CHANGED = "rules_changed"


class RuleBook:
    """The deployment's handoff rules, cached per process."""

    def __init__(self, settings: EscalationSettings) -> None:
        self._settings = settings
        self._rules: list[Rule] | None = None

    async def rules(self, session: AsyncSession) -> list[Rule]:
        """Every rule in the order ``decide`` tries them."""
        if self._rules is None:
            self._rules = await self._load(session)
        return self._rules

    def invalidate(self) -> None:
        """Read the rules again on next use."""
        self._rules = None

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: an admin changed the rules (in this or another process)."""
        if event.kind == RULES_CHANGED:
            self.invalidate()

    async def _load(self, session: AsyncSession) -> list[Rule]:
        rows = await session.scalars(
            select(EscalationRule)
            .where(EscalationRule.enabled.is_(True))
            .order_by(EscalationRule.position, EscalationRule.id)
        )
        loaded: list[Rule] = []
        for row in rows:
            rule = rule_from_row(row)
            if rule is None:
                log.warning("escalation rule %s has an unknown trigger or priority", row.id)
            else:
                loaded.append(rule)
        for entry in self._settings.rules:
            team_id = None
            if entry.team:
                team_id = await session.scalar(select(Team.id).where(Team.name == entry.team))
                if team_id is None:
                    log.warning("escalation rule %r names no team %r", entry.name, entry.team)
            loaded.append(rule_from_settings(entry, team_id))
        return loaded + builtin_rules(self._settings)
