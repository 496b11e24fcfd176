"""Loading the YAML files in ``content/`` with errors that name file, line and reason.

Every content loader (survey, trades, quiz, reminders, FAQ) goes through :func:`load_yaml` and
raises :class:`ContentError`, so ``xuatngu content check`` and start-up report problems
the same way. Every text a person reads is a :class:`Localized`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.textnorm import fold

M = TypeVar("M", bound=BaseModel)

# The shipped content; operators may point XUATNGU_CONTENT_DIR at an edited copy.
CONTENT_DIR = Path(
    os.environ.get("XUATNGU_CONTENT_DIR") or Path(__file__).resolve().parent.parent / "content"
)


class Localized(BaseModel):
    """A text a person reads, in Vietnamese and English (``{vi: ..., en: ...}`` in the YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    @field_validator("vi", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    def get(self, lang: str | None) -> str:
        """The text in the person's language: English for ``en``, else Vietnamese."""
        return self.en if lang == "en" else self.vi


@dataclass
class ContentProblem:
    path: Path
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.reason}"


class ContentError(Exception):
    """One or more problems in a content file; ``str()`` gives one line per problem."""

    def __init__(self, problems: Iterable[ContentProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping and sequence item."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)  # type: ignore[assignment]
    lines = {"__line__": node.start_mark.line + 1}
    for key_node, _ in node.value:
        lines[f"__line__{key_node.value}"] = key_node.start_mark.line + 1
    return _LineDict(mapping, lines)


class _LineDict(dict[str, Any]):
    """A dict that knows the YAML line of itself and of each key."""

    def __init__(self, data: dict[str, Any], lines: dict[str, int]):
        super().__init__(data)
        self.lines = lines

    def line_of(self, key: str | None = None) -> int | None:
        if key is None:
            return self.lines.get("__line__")
        return self.lines.get(f"__line__{key}", self.lines.get("__line__"))


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; syntax errors become a :class:`ContentError` with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError([ContentProblem(path, None, "file not found")]) from None
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ContentError([ContentProblem(path, line, f"YAML syntax: {exc.problem}")]) from None


def line_for(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """Best line for a pydantic error location inside data loaded by :func:`load_yaml`."""
    node = data
    best: int | None = node.line_of() if isinstance(node, _LineDict) else None
    for part in loc:
        try:
            if isinstance(node, _LineDict) and isinstance(part, str):
                best = node.line_of(part) or best
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int):
                node = node[part]
                if isinstance(node, _LineDict):
                    best = node.line_of() or best
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return best


def validate_model(model: type[M], data: Any, path: Path) -> M:
    """Validate loaded YAML against a pydantic model; errors name the YAML line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(ContentProblem(path, line_for(data, loc), f"{dotted}: {err['msg']}"))
        raise ContentError(problems) from None


def words_that_fold(values: Iterable[object]) -> list[str]:
    """A check for match words (trade synonyms, FAQ keywords): each keeps a letter or digit
    once folded, or the matcher could never meet it."""
    words = [str(value) for value in values]
    for word in words:
        if not fold(word):
            raise ValueError(f"{word!r} has no letters or digits")
    return words


def first_duplicate(keys: Iterable[str]) -> str | None:
    """The first key seen twice, or None."""
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return None
