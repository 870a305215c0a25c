"""Who does something in the helpdesk: a signed-in agent or admin, a person known only by
name (someone answering in a Slack agent thread), or the system itself."""

from __future__ import annotations

from dataclasses import dataclass

from omnidesk.helpdesk.models import Agent, AgentRole


@dataclass(frozen=True, slots=True)
class Actor:
    """The one who does an action; ``agent_id`` is set for an agent account, ``ip`` for
    one who acts over HTTP (the audit log's "from where")."""

    name: str
    agent_id: int | None = None
    role: AgentRole = AgentRole.AGENT
    email: str | None = None
    ip: str | None = None

    @classmethod
    def of(cls, agent: Agent, ip: str | None = None) -> Actor:
        """The actor for an agent account."""
        return cls(agent.name, agent.id, AgentRole(agent.role), agent.email, ip)

    @property
    def is_admin(self) -> bool:
        return self.role == AgentRole.ADMIN

    def audit(self) -> dict[str, object]:
        """How the timeline records who did it."""
        return {"by": self.name, "by_id": self.agent_id}


SYSTEM = Actor("system", role=AgentRole.ADMIN)
