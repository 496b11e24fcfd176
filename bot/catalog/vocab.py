"""The catalog's vocabularies (``content/catalog.yaml``): levels, kinds, modes, schooling and an
institution's steps with a person, each a code with a label in both languages."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.content_loading import CONTENT_DIR, Localized, first_duplicate, load_yaml, validate_model

CATALOG_VOCAB_PATH = CONTENT_DIR / "catalog.yaml"
CODE = r"^[a-z][a-z0-9_]{1,31}$"


class Term(BaseModel):
    """One code of a vocabulary and its label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE)
    label: Localized


class Level(Term):
    """A course level; ``supported``: the training-support decree pays for it; ``wish``: the
    survey's training_level answer it fits."""

    supported: bool = False
    wish: str | None = None


class EnrolmentStatus(Term):
    """An institution's step with a person; ``outcome``: the person's outcome it records."""

    outcome: str | None = None


class Vocabularies(BaseModel):
    """Every vocabulary of the catalog, each in file order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    levels: list[Level] = Field(min_length=1)
    institution_kinds: list[Term] = Field(min_length=1)
    fair_kinds: list[Term] = Field(min_length=1)
    fair_modes: list[Term] = Field(min_length=1)
    education: list[Term] = Field(min_length=1)
    enrolment_statuses: list[EnrolmentStatus] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Vocabularies:
        for name in (
            "levels",
            "institution_kinds",
            "fair_kinds",
            "fair_modes",
            "education",
            "enrolment_statuses",
        ):
            duplicate = first_duplicate(t.code for t in getattr(self, name))
            if duplicate is not None:
                raise ValueError(f"{name}: duplicate code {duplicate!r}")
        return self

    def codes(self, name: str) -> list[str]:
        """The codes of one vocabulary (``levels``, ``fair_kinds``…) in file order."""
        terms: list[Term] = getattr(self, name)
        return [t.code for t in terms]

    def label(self, name: str, code: str | None, lang: str) -> str:
        """The label of ``code`` in ``lang``; the code itself when unknown, "" for None."""
        if code is None:
            return ""
        terms: list[Term] = getattr(self, name)
        term = next((t for t in terms if t.code == code), None)
        return term.label.get(lang) if term else code

    def level(self, code: str) -> Level | None:
        """The level with this code, or None."""
        return next((lv for lv in self.levels if lv.code == code), None)

    def education_rank(self, code: str | None) -> int | None:
        """Position of a schooling code from the lowest (0); None when unknown."""
        codes = self.codes("education")
        return codes.index(code) if code in codes else None


def load_vocabularies(path: Path | None = None) -> Vocabularies:
    """Load and validate ``content/catalog.yaml``; problems raise ContentError (file:line)."""
    path = path or CATALOG_VOCAB_PATH
    return validate_model(Vocabularies, load_yaml(path), path)


@lru_cache(maxsize=1)
def vocabularies() -> Vocabularies:
    """The shipped vocabularies, loaded once."""
    return load_vocabularies()
