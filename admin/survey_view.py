"""The survey as counsellors read it: questions, prompts and options in both languages."""

from __future__ import annotations

import logging
from typing import Any

from bot.content_loading import CONTENT_DIR, ContentError, load_yaml

log = logging.getLogger(__name__)


def _from_model() -> tuple[str, list[dict[str, Any]]]:
    from bot.survey import load_survey

    survey = load_survey()
    questions = []
    for q in survey.questions:
        questions.append(
            {
                "id": q.id,
                "type": q.type,
                "label": dict(q.label),
                "prompt": dict(q.prompt),
                "help": dict(q.help or {}),
                "options": [(o.value, dict(o.label)) for o in q.options],
                "when": q.when.model_dump(exclude_none=True, by_alias=True) if q.when else None,
                "required": q.required,
            }
        )
    return survey.version, questions


def _from_yaml() -> tuple[str, list[dict[str, Any]]]:
    data: Any = load_yaml(CONTENT_DIR / "survey.yaml")
    questions = []
    for q in data.get("questions", []):
        questions.append(
            {
                "id": str(q.get("id")),
                "type": str(q.get("type", "")),
                "label": dict(q.get("label") or {}),
                "prompt": dict(q.get("prompt") or {}),
                "help": dict(q.get("help") or {}),
                "options": [
                    (str(o.get("value")), dict(o.get("label") or {}))
                    for o in q.get("options") or []
                ],
                "when": q.get("when"),
                "required": bool(q.get("required", True)),
            }
        )
    return str(data.get("version", "")), questions


def survey_questions() -> tuple[str, list[dict[str, Any]], str]:
    """(version, questions, problem): the validated survey, else the raw file, else a problem."""
    try:
        version, questions = _from_model()
        return version, questions, ""
    except (ImportError, ContentError, ValueError, AttributeError, TypeError) as exc:
        log.warning("survey model unavailable, showing the raw file: %s", exc)
    try:
        version, questions = _from_yaml()
        return version, questions, ""
    except (OSError, ContentError, ValueError, AttributeError) as exc:
        return "", [], str(exc)
