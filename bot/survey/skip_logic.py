"""Skip logic and progress: which questions apply, which comes next, how far the soldier is.

``answers`` maps question id -> stored value (see :mod:`bot.survey.answers`). A question counts
as answered when its id is a key; a skipped optional question is stored as ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.survey.model import SINGLE_CHOICE_TYPES, Condition, Question, Survey

Answers = Mapping[str, Any]


def holds(condition: Condition, answers: Answers) -> bool:
    """Evaluate a ``when`` condition. For list answers, ``equals``/``in`` test membership."""
    if condition.all is not None:
        return all(holds(c, answers) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, answers) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, answers)
    value = answers.get(condition.question or "")
    if condition.answered is not None:
        return (value is not None) == condition.answered
    values = {str(v) for v in value} if isinstance(value, list) else {str(value)}
    if value is None:
        values = set()
    if condition.equals is not None:
        return condition.equals in values
    if condition.not_equals is not None:
        return condition.not_equals not in values
    return bool(values & set(condition.in_ or ()))


def _stops(question: Question, value: Any) -> bool:
    """True if ``value`` is an option marked ``stop: true`` (ends the survey)."""
    if question.type not in SINGLE_CHOICE_TYPES or not isinstance(value, str):
        return False
    option = question.option(value)
    return bool(option and option.stop)


def applicable(survey: Survey, answers: Answers) -> list[Question]:
    """Questions whose ``when`` holds, in order; none after an answer marked ``stop``.

    Conditions only see answers of questions that are themselves applicable, so stale answers
    left by an edit never switch later questions on.
    """
    return _walk(survey, answers, undecided_counts=False)


def _walk(survey: Survey, answers: Answers, *, undecided_counts: bool) -> list[Question]:
    """Applicable questions; with ``undecided_counts`` also those whose ``when`` looks at a
    question not answered yet (used for the progress total, which then only shrinks)."""
    result: list[Question] = []
    visible: dict[str, Any] = {}
    for question in survey.questions:
        when = question.when
        undecided = undecided_counts and when is not None and _undecided(when, answers)
        if when is not None and not undecided and not holds(when, visible):
            continue
        result.append(question)
        if question.id in answers:
            visible[question.id] = answers[question.id]
            if _stops(question, answers[question.id]):
                break
    return result


def _undecided(condition: Condition, answers: Answers) -> bool:
    """True if the condition refers to a question without an answer yet."""
    return any(ref not in answers for ref in condition.question_refs())


def next_question(survey: Survey, answers: Answers) -> Question | None:
    """The first applicable question not yet answered; None when the survey is done."""
    return next((q for q in applicable(survey, answers) if q.id not in answers), None)


def is_complete(survey: Survey, answers: Answers) -> bool:
    """True when every applicable question has an answer (or was skipped)."""
    return next_question(survey, answers) is None


def stopped(survey: Survey, answers: Answers) -> bool:
    """True when an answer marked ``stop`` (consent refused) ended the survey."""
    return any(_stops(q, answers.get(q.id)) for q in applicable(survey, answers))


def progress(survey: Survey, answers: Answers, question: Question) -> tuple[int, int]:
    """``(n, total)`` for "Câu n/total", counting applicable questions with ``counted: true``.

    Questions whose ``when`` still depends on an unanswered question are counted, so the total
    never grows while the soldier goes on (it may shrink). ``n`` is 0 for a question that is not
    counted (consent): show no progress for it.
    """
    counted = [q for q in _walk(survey, answers, undecided_counts=True) if q.counted]
    total = len(counted)
    if not question.counted:
        return 0, total
    for i, q in enumerate(counted, start=1):
        if q.id == question.id:
            return i, total
    done = sum(1 for q in counted if q.id in answers)
    return min(done + 1, total), total


def prune(survey: Survey, answers: Answers) -> dict[str, Any]:
    """A copy of ``answers`` keeping only applicable questions (drops unknown ids too)."""
    keep = {q.id for q in applicable(survey, answers)}
    return {k: v for k, v in answers.items() if k in keep}
