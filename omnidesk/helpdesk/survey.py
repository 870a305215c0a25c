"""Rating links for channels without buttons (email): a signed, expiring token that
names the ticket, so a link is good only for the customer it was sent to, for a while.
The pages behind them are in ``survey_pages``."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

# Where an action finds the links when the session was made by the service
# (``async_sessionmaker.configure(info={SURVEY_KEY: links})``); absent in bare tests.
SURVEY_KEY = "omnidesk.survey_links"
_SALT = "omnidesk.csat"


@dataclass(frozen=True, slots=True)
class SurveyLinks:
    """Signs and reads rating links."""

    secret: str
    base_url: str
    max_age_seconds: int = 14 * 24 * 3600

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=_SALT)

    def token(self, ticket_id: int) -> str:
        return str(self._serializer().dumps({"ticket": ticket_id}))

    def url(self, ticket_id: int, score: int) -> str:
        return f"{self.base_url.rstrip('/')}/csat/{self.token(ticket_id)}?score={score}"

    def ticket_of(self, token: str) -> int | None:
        """The ticket a token names, or None for a forged, mangled or expired one."""
        try:
            data = self._serializer().loads(token, max_age=self.max_age_seconds)
        except BadData:
            return None
        ticket = data.get("ticket") if isinstance(data, dict) else None
        return ticket if isinstance(ticket, int) and not isinstance(ticket, bool) else None


def survey_links(session: AsyncSession) -> SurveyLinks | None:
    """The links of the service that made ``session``, if it gave any."""
    links = session.info.get(SURVEY_KEY)
    return links if isinstance(links, SurveyLinks) else None
