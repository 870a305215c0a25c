"""What the customer is told around a handoff and a resolution, in one place: the texts,
the bot's name (from settings) and the rating buttons. Wording changes here only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.config import Settings
from omnidesk.messages import Action

# The rating button payload's prefix: "csat:1" .. "csat:5".
CSAT_PREFIX = str(Action.CSAT_PREFIX)
CSAT_SCORES = (1, 2, 3, 4, 5)
# Where actions find the deployment's catalogue when the service made the session
# (``async_sessionmaker.configure(info=...)``); the defaults otherwise.
CATALOGUE_KEY = "omnidesk.catalogue"
# Marks the system message that asked a web chat visitor for an email address, so the
# reply to it is read as one.
EMAIL_PROMPT = "email"


def csat_payload(score: int) -> str:
    return f"{CSAT_PREFIX}{score}"


def duration(minutes: int) -> str:
    """A target as a person says it: "15 minutes", "2 hours", "1 day"."""
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    if minutes < 48 * 60 or minutes % (24 * 60):
        hours = round(minutes / 60)
        return f"{hours} hour{'s' if hours != 1 else ''}"
    days = minutes // (24 * 60)
    return f"{days} days"


def when(at: dt.datetime, now: dt.datetime) -> str:
    """An opening time in its own time zone, relative to ``now`` in that zone:
    "today at 14:00", "tomorrow at 09:00", "on Monday 7 December at 09:00"."""
    local_now = now.astimezone(at.tzinfo)
    clock = at.strftime("%H:%M")
    days = (at.date() - local_now.date()).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    return f"on {at.strftime('%A')} {at.day} {at.strftime('%B')} at {clock}"


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The customer-facing texts of one deployment."""

    bot_name: str = "Lumen Bot"
    team_name: str = "our support team"

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalogue:
        return cls(bot_name=settings.branding.bot_name, team_name=settings.branding.team_name)

    # -- handoff --------------------------------------------------------------------------

    def handoff(self, reason: str) -> str:
        """Why the conversation goes to a person, in the customer's terms."""
        if reason == "low_confidence":
            return (
                "I couldn't find a good answer to that, so I've passed your conversation "
                f"to {self.team_name}."
            )
        if reason == "not_helpful":
            return f"Sorry that didn't help. I've passed your conversation to {self.team_name}."
        return f"I've passed your conversation to {self.team_name}."

    def answer_soon(self, first_response_minutes: int | None, who: str | None = None) -> str:
        person = who or "A person"
        if first_response_minutes:
            return (
                f"{person} will reply here shortly; we aim to answer within "
                f"{duration(first_response_minutes)}."
            )
        return f"{person} will reply here shortly."

    def answer_when_back(self, back_at: dt.datetime, timezone: str, now: dt.datetime) -> str:
        return (
            f"Our team is away right now and back {when(back_at, now)} ({timezone}). "
            "A person will reply here then."
        )

    def leave_email(self) -> str:
        return "If you can't wait here, type your email address so our team can reach you."

    def email_saved(self, email: str) -> str:
        return f"Thanks! Our team can reach you at {email}."

    # -- resolution, rating, reopening ----------------------------------------------------

    def resolved(self, ticket_id: int | None) -> str:
        ref = f" (#{ticket_id})" if ticket_id else ""
        return (
            f"Your request{ref} has been marked as resolved. If anything is still open, "
            "just reply here and we'll pick it up again."
        )

    def csat_question(self, *, by_email: bool) -> str:
        if by_email:
            return (
                "How did we do? Reply with a number from 1 (poor) to 5 (great), or choose "
                "one of these links:"
            )
        return "How did we do? Please rate the help you got from 1 (poor) to 5 (great)."

    def csat_label(self, score: int) -> str:
        return str(score)

    def csat_thanks(self) -> str:
        return (
            "Thank you for rating us! Anything you'd like to add? Just write it here "
            "(it's optional)."
        )

    def comment_thanks(self) -> str:
        return "Thank you, we've passed your comment on to the team."

    def nps_question(self, link: str | None = None) -> str:
        ask = (
            f"How likely are you to recommend {self.team_name} to a friend or colleague? "
            "Reply with a number from 0 (not at all likely) to 10 (extremely likely)"
        )
        return f"{ask}, or answer here: {link}" if link else f"{ask}."

    def nps_thanks(self) -> str:
        return (
            "Thank you for your answer! Anything you'd like to tell us about it? Just write "
            "it here (it's optional)."
        )

    def reopened(self, ticket_id: int, assignee: str | None) -> str:
        who = assignee or self.team_name
        return f"We've reopened your request (#{ticket_id}); {who} will reply here."


def catalogue_of(session: AsyncSession) -> Catalogue:
    found = session.info.get(CATALOGUE_KEY)
    return found if isinstance(found, Catalogue) else Catalogue()
