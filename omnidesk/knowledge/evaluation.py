"""Retrieval evaluation: questions with the article that should answer them (or none:
out of scope), scored as hit@1, hit@5, MRR, what the bot would do with each (answered
right, answered wrong, declined, out of scope answered) and the confidence bar that keeps
wrong answers within a target rate.

The scoring is pure (:func:`summarise` over :class:`CaseResult`), so benchmarks can
feed it rankings from any index; :func:`evaluate` runs a started :class:`KnowledgeBase`.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnidesk.knowledge.articles import KnowledgeError

if TYPE_CHECKING:
    from omnidesk.knowledge.service import KnowledgeBase

SAMPLE_EVAL = Path(__file__).resolve().parent / "sample" / "eval.csv"
MAX_CASES = 5000
# Accepted names of the column holding the expected article's slug.
EXPECTED_COLUMNS = ("expected", "expected_slug", "slug")
RANK_DEPTH = 5
# Share of questions answered wrongly (in scope with another article, or out of scope at
# all) that the suggested bar allows.
TARGET_WRONG = 0.03


class EvaluationError(KnowledgeError, ValueError):
    """An evaluation file that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class EvalCase:
    question: str
    expected: str  # slug of the article that answers it; "" when none should (out of scope)

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What retrieval did with one question."""

    case: EvalCase
    ranked: tuple[str, ...]  # slugs, best first, up to RANK_DEPTH
    confidence: float  # what the bot decides on (Answer.confidence); 0 without a hit
    kind: str = "answer"  # what the bot would do: "answer", "clarify" or "unsure"
    offered: tuple[str, ...] = ()  # the choices of a "clarify"

    @property
    def rank(self) -> int | None:
        """1-based rank of the expected article, None if not in ``ranked`` (or out of scope)."""
        if not self.case.in_scope:
            return None
        try:
            return self.ranked.index(self.case.expected) + 1
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Miss:
    question: str
    expected: str
    got: str | None
    rank: int | None


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Scores over a set of questions.

    ``answered`` is the share of questions whose top hit clears the confidence bar, and
    ``answered_right`` the share of those whose top hit is the expected article: the
    calibration of the bar. ``clarified`` is the share that would get a "did you
    mean" question instead, and ``clarified_right`` the share of those offering the
    expected article among the choices.
    """

    cases: int
    hit_at_1: float
    hit_at_5: float
    mrr: float
    threshold: float
    answered: float
    answered_right: float
    clarified: float = 0.0
    clarified_right: float = 0.0
    unknown_slugs: tuple[str, ...] = ()  # expected slugs no article has
    misses: tuple[Miss, ...] = field(default_factory=tuple)
    # What the bot does (kind "answer" is answering; a "did you mean" or choices decline):
    # shares of the in-scope questions, and of the out-of-scope ones answered.
    in_scope: int = 0
    out_of_scope: int = 0
    right: float = 0.0
    wrong: float = 0.0
    declined: float = 0.0
    oos_answered: float = 0.0
    # The lowest bar keeping wrong answers within target_wrong of all questions, and the
    # rates it would give (decision_rates of the top hit's confidence).
    target_wrong: float = TARGET_WRONG
    suggested_threshold: float = 0.0
    at_suggested: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["unknown_slugs"] = list(self.unknown_slugs)
        data["misses"] = [asdict(m) for m in self.misses]
        return data

    def lines(self) -> list[str]:
        """The report as a reader wants it printed."""
        out = [
            f"{self.cases} questions",
            f"hit@1 {self.hit_at_1:.3f}   hit@5 {self.hit_at_5:.3f}   MRR {self.mrr:.3f}",
            f"calibration: {self.answered:.1%} answered (confidence >= {self.threshold:.2f}), "
            f"{self.answered_right:.1%} of those right",
        ]
        if self.clarified:
            out.append(
                f"clarify: {self.clarified:.1%} asked 'did you mean', "
                f"{self.clarified_right:.1%} of those offered the right article"
            )
        out.append(
            f"decisions: {self.in_scope} in scope: {self.right:.1%} answered right, "
            f"{self.wrong:.1%} answered wrong, {self.declined:.1%} declined; "
            f"{self.out_of_scope} out of scope: {self.oos_answered:.1%} answered"
        )
        if self.at_suggested:
            rates = self.at_suggested
            out.append(
                f"suggested bar for at most {self.target_wrong:.1%} wrong answers: confidence "
                f">= {self.suggested_threshold:.2f} (right {rates['right']:.1%}, wrong "
                f"{rates['wrong']:.1%}, declined {rates['declined']:.1%}, out of scope "
                f"answered {rates['oos_answered']:.1%})"
            )
        if self.unknown_slugs:
            out.append("unknown slugs: " + ", ".join(self.unknown_slugs))
        return out


def read_cases(text: str) -> list[EvalCase]:
    """Cases from CSV text with a header row: ``question`` and ``expected`` (or
    ``expected_slug``/``slug``); an empty ``expected`` is a question no article should
    answer. Raises :class:`EvaluationError` naming the line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        names = reader.fieldnames or ()
    except csv.Error as exc:  # a header field past the csv module's size limit, say
        raise EvaluationError(f"line 1: not valid CSV: {exc}") from None
    header = {(name or "").strip().lower(): name for name in names}
    expected_key = next((header[c] for c in EXPECTED_COLUMNS if c in header), None)
    question_key = header.get("question")
    if question_key is None or expected_key is None:
        raise EvaluationError("the first row must name the columns 'question' and 'expected'")
    cases: list[EvalCase] = []
    try:
        for row in reader:
            question = (row.get(question_key) or "").strip()
            raw_expected = row.get(expected_key)
            expected = (raw_expected or "").strip()
            if not question and not expected:
                continue
            if not question:
                raise EvaluationError(f"line {reader.line_num}: the question is empty")
            if raw_expected is None:
                # A short row (or an unclosed quote that ate the line): out of scope is
                # written as an empty value after the comma, never as a missing one.
                raise EvaluationError(
                    f"line {reader.line_num}: no expected column (leave it empty after "
                    "a comma for a question no article should answer)"
                )
            cases.append(EvalCase(question, expected))
            if len(cases) > MAX_CASES:
                raise EvaluationError(f"more than {MAX_CASES} questions")
    except csv.Error as exc:
        raise EvaluationError(f"line {reader.line_num}: not valid CSV: {exc}") from None
    if not cases:
        raise EvaluationError("no questions in the file")
    return cases


def load_cases(path: Path | str = SAMPLE_EVAL) -> list[EvalCase]:
    """Cases from a CSV file; the packaged sample by default."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise EvaluationError(f"{path} is not UTF-8 text") from None
    return read_cases(text)


def summarise(
    results: Sequence[CaseResult],
    threshold: float,
    *,
    known_slugs: set[str] | None = None,
    max_misses: int = 50,
    target_wrong: float = TARGET_WRONG,
) -> EvalReport:
    """Scores of ``results`` against the confidence bar ``threshold``.

    hit@1, hit@5, MRR and the clarify figures are over the in-scope questions; the
    calibration (``answered``) and the suggested bar over all of them.
    """
    n = len(results)
    if n == 0:
        return EvalReport(0, 0.0, 0.0, 0.0, threshold, 0.0, 0.0, target_wrong=target_wrong)
    inside = [r for r in results if r.case.in_scope]
    ranks = [r.rank for r in inside]
    above = [r for r in results if r.ranked and r.confidence >= threshold]
    right = sum(1 for r in above if r.ranked[0] == r.case.expected)
    clarified = [r for r in inside if r.kind == "clarify"]
    clarified_right = sum(1 for r in clarified if r.case.expected in r.offered)
    misses = [
        Miss(r.case.question, r.case.expected, r.ranked[0] if r.ranked else None, r.rank)
        for r in results
        if (r.rank != 1 if r.case.in_scope else r.kind == "answer")
    ]
    expected = {r.case.expected for r in inside}
    unknown = sorted(expected - known_slugs) if known_slugs is not None else []
    decisions = [(r.confidence, r.ranked[0] if r.ranked else "", r.case.expected) for r in results]
    bar = choose_threshold(decisions, target_wrong)

    def share(count: int, total: int) -> float:
        return round(count / total, 4) if total else 0.0

    return EvalReport(
        cases=n,
        hit_at_1=share(sum(rank == 1 for rank in ranks), len(inside)),
        hit_at_5=share(sum(rank is not None and rank <= 5 for rank in ranks), len(inside)),
        mrr=round(sum(1 / rank for rank in ranks if rank) / len(inside), 4) if inside else 0.0,
        threshold=threshold,
        answered=share(len(above), n),
        answered_right=share(right, len(above)),
        clarified=share(len(clarified), len(inside)),
        clarified_right=share(clarified_right, len(clarified)),
        unknown_slugs=tuple(unknown),
        misses=tuple(misses[:max_misses]),
        **_decided(results),
        target_wrong=target_wrong,
        suggested_threshold=bar,
        at_suggested=decision_rates(decisions, bar),
    )


def _decided(results: Sequence[CaseResult]) -> dict[str, Any]:
    """What the bot did with each question (kind "answer" answers; the rest decline)."""
    inside = [r for r in results if r.case.in_scope]
    outside = [r for r in results if not r.case.in_scope]
    answered = [r for r in inside if r.kind == "answer" and r.ranked]
    right = sum(1 for r in answered if r.ranked[0] == r.case.expected)
    n = len(inside)
    return {
        "in_scope": n,
        "out_of_scope": len(outside),
        "right": round(right / n, 4) if n else 0.0,
        "wrong": round((len(answered) - right) / n, 4) if n else 0.0,
        "declined": round((n - len(answered)) / n, 4) if n else 0.0,
        "oos_answered": (
            round(sum(1 for r in outside if r.kind == "answer") / len(outside), 4)
            if outside
            else 0.0
        ),
    }


# (confidence of the top hit, its slug, the expected slug; "" when no article should answer)
Decision = tuple[float, str, str]


def decision_rates(decisions: Sequence[Decision], bar: float) -> dict[str, float]:
    """What answering at confidence ``bar`` and above gives.

    ``right``, ``wrong`` and ``declined`` are shares of the in-scope questions (answered
    with the expected article, answered with another, not answered); ``oos_answered``
    the share of out-of-scope questions answered; ``wrong_rate`` the share of all
    questions that got a wrong answer (in-scope wrong plus out-of-scope answered).
    """
    inside = [d for d in decisions if d[2]]
    outside = [d for d in decisions if not d[2]]
    right = sum(1 for c, top, e in inside if c >= bar and top == e)
    wrong = sum(1 for c, top, e in inside if c >= bar and top != e)
    oos = sum(1 for c, _, _ in outside if c >= bar)

    def share(count: int, total: int) -> float:
        return round(count / total, 4) if total else 0.0

    return {
        "right": share(right, len(inside)),
        "wrong": share(wrong, len(inside)),
        "declined": share(len(inside) - right - wrong, len(inside)),
        "oos_answered": share(oos, len(outside)),
        "wrong_rate": share(wrong + oos, len(decisions)),
    }


def choose_threshold(decisions: Sequence[Decision], target_wrong: float) -> float:
    """The lowest confidence bar at and above which the wrong-answer rate stays within
    ``target_wrong`` (so a slightly higher bar is never worse), answering the most.

    Candidate bars are the confidences seen; a bar above all of them (nothing
    answered) is the answer when no other one meets the target.
    """
    if not 0.0 <= target_wrong <= 1.0:
        raise ValueError("target_wrong must be within 0..1")
    levels = sorted({round(c, 4) for c, _, _ in decisions}, reverse=True)
    chosen = round(max(levels, default=0.0) + 0.0001, 4)
    for level in levels:
        wrong = sum(1 for c, top, e in decisions if c >= level and top != e)
        # Compared as counts: a rate rounded for display must not decide.
        if wrong > target_wrong * len(decisions) + 1e-9:
            break
        chosen = level
    return chosen


async def evaluate(
    kb: KnowledgeBase, cases: Sequence[EvalCase], *, target_wrong: float = TARGET_WRONG
) -> EvalReport:
    """Run every case through ``kb`` (search for the ranks, answer for what the bot
    would do) and score them against the configured answer bar; suggest the bar that
    keeps wrong answers within ``target_wrong``."""

    async def one(case: EvalCase) -> CaseResult:
        hits, answer = await asyncio.gather(
            kb.search(case.question, k=RANK_DEPTH), kb.answer(case.question)
        )
        return CaseResult(
            case=case,
            ranked=tuple(h.slug for h in hits),
            # What the bot decides on: the best article's score and its lead.
            confidence=answer.confidence if hits else 0.0,
            kind=answer.kind,
            offered=tuple(h.slug for h in answer.suggestions) if answer.kind == "clarify" else (),
        )

    # All at once: the query batcher turns concurrent questions into few model calls.
    results = await asyncio.gather(*(one(case) for case in cases))
    known = {a.slug for a in await kb.list_articles(published_only=True)}
    return summarise(
        results,
        kb.settings.knowledge.answer_threshold,
        known_slugs=known,
        target_wrong=target_wrong,
    )
