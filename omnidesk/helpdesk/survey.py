"""Survey links for channels without buttons (email): a signed, expiring token that
names what was asked (a ticket's CSAT, one NPS survey sent), so a link is good only for
the customer it was sent to, for a while, and only for its own kind of survey. The pages
behind them are in ``survey_pages``."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession

# Where an action finds the links when the session was made by the service
# (``async_sessionmaker.configure(info={SURVEY_KEY: links})``); absent in bare tests.
SURVEY_KEY = "omnidesk.survey_links"
# Per kind: what the token's number names. Each kind signs with its own salt, so a
# CSAT link's token is refused by the NPS page and the other way round.
_NAMES = {"csat": "ticket", "nps": "survey"}


@dataclass(frozen=True, slots=True)
class SurveyLinks:
    """Signs and reads survey links."""

    secret: str
    base_url: str
    max_age_seconds: int = 14 * 24 * 3600

    def _serializer(self, kind: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=f"omnidesk.{kind}")

    def token(self, ref: int, kind: str = "csat") -> str:
        """A token naming ``ref``: a ticket for ``csat``, a survey send for ``nps``."""
        return str(self._serializer(kind).dumps({_NAMES[kind]: ref}))

    def url(self, ticket_id: int, score: int) -> str:
        """A CSAT link that rates ``ticket_id`` with ``score`` when opened."""
        return f"{self._base}/csat/{self.token(ticket_id)}?score={score}"

    def page(self, ref: int, kind: str) -> str:
        """The page of a survey that asks on the page itself (NPS)."""
        return f"{self._base}/{kind}/{self.token(ref, kind)}"

    @property
    def _base(self) -> str:
        return self.base_url.rstrip("/")

    def read(self, token: str, kind: str) -> int | None:
        """What a token of ``kind`` names, or None for a forged, mangled or expired one."""
        try:
            data = self._serializer(kind).loads(token, max_age=self.max_age_seconds)
        except BadData:
            return None
        ref = data.get(_NAMES[kind]) if isinstance(data, dict) else None
        return ref if isinstance(ref, int) and not isinstance(ref, bool) else None

    def ticket_of(self, token: str) -> int | None:
        """The ticket a CSAT token names, or None."""
        return self.read(token, "csat")


def survey_links(session: AsyncSession) -> SurveyLinks | None:
    """The links of the service that made ``session``, if it gave any."""
    links = session.info.get(SURVEY_KEY)
    return links if isinstance(links, SurveyLinks) else None
