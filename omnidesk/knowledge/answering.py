"""What the bot does with a ranked list: answer, ask "did you mean", or offer choices."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from omnidesk.config.settings import KnowledgeSettings
from omnidesk.knowledge.fusion import COSINE_CEIL, COSINE_FLOOR
from omnidesk.knowledge.ranking import RankingWeights, decision_confidence
from omnidesk.knowledge.retrieval import SearchHit

# A question this short after another one is read as a follow-up ("and for Europe?").
FOLLOW_UP_MAX_WORDS = 5
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|same for)\b", re.I)
# Ask "did you mean ...?" instead of answering when another of the top articles is, on
# the confidence scale before clipping, within this of the best one and both clear the
# answer bar. On the sample's eval.csv (148 questions, bar 0.5) 0.02 asks on 10 (6.8 %):
# 5 of the 11 questions the bot would have answered wrongly, 5 of the 129 it answers
# rightly; the expected article is among the choices in 7 of the 10. Wider margins add
# right answers faster than wrong ones (0.05: 13 asked, 6 wrong caught, 7 right delayed).
# The default of ``knowledge.clarify_margin``, measured on the sample evaluation set.
CLARIFY_MARGIN: float = KnowledgeSettings.model_fields["clarify_margin"].default


@dataclass(frozen=True, slots=True)
class Answer:
    """What the knowledge base says to a question.

    ``kind == "answer"``: ``text`` is ``best``'s passage, quoted as written, and
    ``suggestions`` are other articles worth offering. ``kind == "clarify"``: two or
    more articles answer about equally well; ``text`` is empty and ``suggestions`` are
    those articles, ``best`` first, for a "did you mean" question. ``kind == "unsure"``:
    ``text`` is empty and ``suggestions`` are the articles to offer as choices (possibly
    none); ``best`` is still the top hit, if any, for logging and hand-off context.
    """

    kind: Literal["answer", "clarify", "unsure"]
    text: str
    confidence: float
    best: SearchHit | None
    suggestions: list[SearchHit]
    query: str = ""  # the text actually searched (question plus previous one for a follow-up)


def decide(
    hits: Sequence[SearchHit], query: str, knowledge: KnowledgeSettings, weights: RankingWeights
) -> Answer:
    """The answer to ``hits`` (best first, the question as searched ``query``).

    The bot answers when the best article's score and its lead over the next one
    (:func:`ranking.decision_confidence`) reach ``knowledge.answer_threshold``; asks
    "did you mean" when another of the top articles is as close (:func:`close_calls`);
    otherwise offers the articles above ``knowledge.suggest_threshold``.
    """
    if not hits:
        return Answer("unsure", "", 0.0, None, [], query)
    best = hits[0]
    runner_up = hits[1].raw_score if len(hits) > 1 else None
    sure = round(decision_confidence(best.raw_score, runner_up, weights), 4)
    if sure >= knowledge.answer_threshold:
        close = close_calls(
            hits[: knowledge.top_k], knowledge.answer_threshold, knowledge.clarify_margin
        )
        if len(close) > 1:
            return Answer("clarify", "", sure, best, close, query)
        related = [h for h in hits[1:] if h.score >= knowledge.suggest_threshold]
        return Answer("answer", best.text, sure, best, related[: knowledge.top_k], query)
    offered = [h for h in hits if h.score >= knowledge.suggest_threshold]
    return Answer("unsure", "", sure, best, offered[: knowledge.top_k], query)


def is_follow_up(question: str) -> bool:
    words = question.split()
    return len(words) <= FOLLOW_UP_MAX_WORDS or bool(_FOLLOW_UP_START.match(question))


def close_calls(
    hits: Sequence[SearchHit], bar: float, margin: float = CLARIFY_MARGIN
) -> list[SearchHit]:
    """The best hit and the others about as confident as it, all at or above ``bar``.

    Compared on the cosine of each one's closest passage or example question (the
    measurement behind :data:`CLARIFY_MARGIN`), before any mapping to 0..1.
    """
    span = COSINE_CEIL - COSINE_FLOOR
    best = hits[0]
    close = [best]
    for hit in hits[1:]:
        gap = max(best.dense_score, best.question_score) - max(hit.dense_score, hit.question_score)
        if hit.score >= bar and gap / span <= margin:
            close.append(hit)
    return close
