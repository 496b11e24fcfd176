"""The survey as counsellors read it: questions, prompts and options in both languages, the
conditions in words, and Telegram's HTML rendered as the soldier sees it (anything else escaped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from html import escape
from html.parser import HTMLParser
from typing import Any

from markupsafe import Markup

from bot.content_loading import CONTENT_DIR, ContentError, load_yaml

log = logging.getLogger(__name__)
# Telegram's formatting tags a browser shows the same way (attributes are never kept)
_PLAIN_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "blockquote"}
)


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


class _TelegramHtml(HTMLParser):
    """Re-writes Telegram HTML for a page: its tags kept (no attributes but a link's http(s)
    address), everything else escaped as text, every opened tag closed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def _literal(self) -> None:
        self.out.append(escape(self.get_starttag_text() or ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _PLAIN_TAGS:
            self.out.append(f"<{tag}>")
        elif tag == "a" and (values.get("href") or "").startswith(("https://", "http://")):
            href = escape(values.get("href") or "")
            self.out.append(f'<a href="{href}" rel="noopener noreferrer">')
        elif tag == "tg-spoiler" or (tag == "span" and values.get("class") == "tg-spoiler"):
            tag = "span"
            self.out.append('<span class="spoiler">')
        else:
            self._literal()
            return
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._literal()

    def handle_endtag(self, tag: str) -> None:
        tag = "span" if tag == "tg-spoiler" else tag
        if self.open and self.open[-1] == tag:
            self.out.append(f"</{self.open.pop()}>")
        else:
            self.out.append(escape(f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data))

    def handle_comment(self, data: str) -> None:
        self.out.append(escape(f"<!--{data}-->"))

    def handle_decl(self, decl: str) -> None:
        self.out.append(escape(f"<!{decl}>"))

    def handle_pi(self, data: str) -> None:
        self.out.append(escape(f"<?{data}>"))

    def unknown_decl(self, data: str) -> None:
        self.out.append(escape(f"<![{data}]>"))


def telegram_html(value: str | None) -> Markup:
    """A text in Telegram's HTML (survey prompts, its messages) safe to put in a page."""
    parser = _TelegramHtml()
    parser.feed(value or "")
    parser.close()
    closing = "".join(f"</{tag}>" for tag in reversed(parser.open))
    return Markup("".join(parser.out) + closing)  # every piece was escaped or written above


Translate = Callable[..., str]


def condition_words(
    condition: Any, questions: Sequence[Mapping[str, Any]], lang: str, _: Translate
) -> str:
    """A skip condition (``when:``) in words: question labels and option labels, quoted.

    ``questions`` are those of :func:`survey_questions`; ``_`` translates into ``lang``.
    """
    if not isinstance(condition, Mapping):
        return _("a condition this page cannot show")
    for combinator, joiner in (("all", _(" and ")), ("any", _(" or "))):
        if combinator in condition:
            parts = [condition_words(c, questions, lang, _) for c in condition[combinator] or ()]
            return joiner.join(f"({p})" if len(parts) > 1 else p for p in parts)
    if "not" in condition:
        inner = condition_words(condition["not"], questions, lang, _)
        return _("not (%(condition)s)", condition=inner)
    asked = str(condition.get("question"))
    question = next((q for q in questions if q.get("id") == asked), {})
    label = _localized(question.get("label"), lang) or asked
    options = {value: _localized(names, lang) for value, names in question.get("options") or ()}

    def answer(value: Any) -> str:
        return f"“{options.get(str(value)) or value}”"

    if "equals" in condition:
        return _("“%(question)s” is %(answer)s", question=label, answer=answer(condition["equals"]))
    if "not_equals" in condition:
        return _(
            "“%(question)s” is not %(answer)s",
            question=label,
            answer=answer(condition["not_equals"]),
        )
    if "in" in condition:
        chosen = ", ".join(answer(v) for v in condition["in"] or ())
        return _("“%(question)s” is one of %(answers)s", question=label, answers=chosen)
    if condition.get("answered") is False:
        return _("“%(question)s” is not answered", question=label)
    if "answered" in condition:
        return _("“%(question)s” is answered", question=label)
    return _("a condition this page cannot show")


def _localized(names: Any, lang: str) -> str:
    """The text of a ``{vi, en}`` mapping in ``lang`` (Vietnamese fallback)."""
    if not isinstance(names, Mapping):
        return ""
    return str(names.get(lang) or names.get("vi") or "")
