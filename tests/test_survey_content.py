"""The shipped survey.yaml loads, and broken variants fail with the right line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.content_loading import ContentError, Localized
from bot.survey import MESSAGE_KEYS, SURVEY_PATH, load_survey, reload_survey

EXPECTED_TYPES = {
    "consent": "consent",
    "full_name": "text",
    "phone": "phone",
    "branch": "choice",
    "enlistment_month": "month",
    "discharge_month": "month",
    "home_commune": "commune",
    "education": "choice",
    "trade_choices": "trade",
    "training_level": "choice",
    "training_place": "choice",
    "job_referral": "yes_no",
    "work_preference": "choice",
    "loan_interest": "choice",
    "wants_call": "yes_no",
    "call_phone": "phone",
}
EXPECTED_OPTIONS = {
    "consent": ["all", "counselling_only", "none"],
    "branch": ["army", "police", "border_guard"],
    "education": [
        "lower_secondary",
        "upper_secondary",
        "vocational_intermediate",
        "college",
        "university",
    ],
    "training_level": ["elementary", "intermediate", "college"],
    "training_place": ["near_home", "in_province", "outside_province"],
    "job_referral": ["yes", "no"],
    "work_preference": ["in_province", "other_province", "abroad"],
    "loan_interest": ["none", "startup", "abroad"],
    "wants_call": ["yes", "no"],
}


# --- the shipped file ---------------------------------------------------------------------


def test_shipped_survey_has_the_fixed_questions_in_order() -> None:
    survey = reload_survey()
    assert isinstance(survey.version, str) and survey.version
    assert {q.id: q.type for q in survey.questions} == EXPECTED_TYPES
    assert [q.id for q in survey.questions] == list(EXPECTED_TYPES)
    for qid, values in EXPECTED_OPTIONS.items():
        assert [o.value for o in survey.question(qid).options] == values, qid
    assert survey.question("trade_choices").max_choices == 3
    assert survey.question("phone").required is False


def test_every_text_needs_vi_and_en_and_other_languages_read_vi() -> None:
    """One model for every content text: both languages, not blank; vi unless en is asked."""
    text = Localized(vi="Xin chào", en="Hello")
    assert [text.get(lang) for lang in ("vi", "en", "fr", None)] == [
        "Xin chào",
        "Hello",
        "Xin chào",
        "Xin chào",
    ]
    for bad in (
        {"vi": "Xin chào"},
        {"vi": "Xin chào", "en": "  "},
        {"vi": "a", "en": "b", "ru": "c"},
    ):
        with pytest.raises(ValidationError):
            Localized.model_validate(bad)
    survey = load_survey()
    assert set(MESSAGE_KEYS) <= set(survey.messages)


def test_consent_explains_privacy_and_refusal_stops() -> None:
    survey = load_survey()
    consent = survey.question("consent")
    # the consent screen shows the `privacy` message (as /privacy does), then the choices
    privacy = survey.messages["privacy"]
    for lang in ("vi", "en"):
        for needle in ("/delete_me", "/sharing", "/survey", "5"):  # 5: years after discharge
            assert needle in privacy.get(lang), (lang, needle)
    for needle in ("Bộ đội Biên phòng", "vay vốn", "gọi điện", "Sở Giáo dục và Đào tạo"):
        assert needle in privacy.vi, needle
    assert "Border Guard" in privacy.en and "loans" in privacy.en
    for option in consent.options:
        assert option.label.vi in consent.prompt.vi and option.label.en in consent.prompt.en
    refuse, agree = consent.option("none"), consent.option("all")
    assert refuse is not None and refuse.stop
    assert agree is not None and not agree.stop
    assert consent.counted is False and consent.editable is False


def test_load_survey_caches_per_path_and_reload_rereads(tmp_path: Path) -> None:
    path = tmp_path / "survey.yaml"
    path.write_text(SURVEY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_survey(path)
    assert load_survey(str(path)) is first
    path.write_text(
        path.read_text(encoding="utf-8").replace('version: "2026.2"', 'version: "9.9"'),
        encoding="utf-8",
    )
    assert load_survey(path).version == first.version
    assert reload_survey(path).version == "9.9"


# --- broken variants ----------------------------------------------------------------------


def _messages_yaml() -> str:
    """A messages block with every needed key and its placeholders."""
    lines = ["messages:"]
    for key, fields in MESSAGE_KEYS.items():
        holders = " ".join("{" + f + "}" for f in sorted(fields))
        lines.append(f'  "{key}": {{vi: "vi {holders}", en: "en {holders}"}}')
    return "\n".join(lines)


QUESTIONS = """\
questions:
  - id: name
    type: text
    label: {vi: Tên, en: Name}
    prompt: {vi: "Tên bạn?", en: "Your name?"}
    validation:
      max_length: 50
      pattern: '^[^\\d]+$'
  - id: start
    type: month
    label: {vi: Bắt đầu, en: Start}
    prompt: {vi: "Tháng bắt đầu?", en: "Start month?"}
  - id: end
    type: month
    label: {vi: Kết thúc, en: End}
    prompt: {vi: "Tháng kết thúc?", en: "End month?"}
    validation:
      after: start
  - id: job
    type: yes_no
    label: {vi: Việc, en: Job}
    prompt: {vi: "Muốn việc làm?", en: "Want a job?"}
  - id: where
    type: choice
    when: {question: job, equals: yes}
    label: {vi: Nơi, en: Where}
    prompt: {vi: "Ở đâu?", en: "Where?"}
    options:
      - value: here
        label: {vi: Ở đây, en: Here}
      - value: there
        label: {vi: Ở kia, en: There}
"""


def _write(tmp_path: Path, questions: str, *, head: str | None = None) -> Path:
    """Write a survey file: version, all messages, then the questions block."""
    head = head if head is not None else 'version: "1"'
    path = tmp_path / "survey.yaml"
    path.write_text(f"{head}\n{_messages_yaml()}\n{questions}", encoding="utf-8")
    return path


def _line_of(path: Path, marker: str) -> int:
    """1-based number of the only line containing ``marker``."""
    hits = [i for i, s in enumerate(path.read_text().splitlines(), 1) if marker in s]
    assert len(hits) == 1, hits
    return hits[0]


def test_minimal_fixture_is_valid(tmp_path: Path) -> None:
    survey = reload_survey(_write(tmp_path, QUESTIONS))
    assert [q.id for q in survey.questions] == ["name", "start", "end", "job", "where"]
    assert [o.value for o in survey.question("job").options] == ["yes", "no"]
    when = survey.question("where").when
    assert when is not None and when.equals == "yes"  # unquoted yes read back as the word


BROKEN = {
    "duplicate id": (
        ("  - id: job\n", "  - id: start  # HERE\n"),
        "duplicate question id 'start'",
    ),
    "when refers to a later question": (
        (
            "    type: month\n    label: {vi: Kết thúc",
            "    type: month\n"
            "    when: {question: where, equals: here}  # HERE\n"
            "    label: {vi: Kết thúc",
        ),
        "comes later",
    ),
    "when refers to an unknown question": (
        ("when: {question: job, equals: yes}", "when: {question: jobs, equals: yes}  # HERE"),
        "unknown question 'jobs'",
    ),
    "when compares with a value that is not an option": (
        ("when: {question: job, equals: yes}", "when: {question: job, equals: maybe}  # HERE"),
        "no option 'maybe'",
    ),
    "missing en": (
        ('prompt: {vi: "Ở đâu?", en: "Where?"}', 'prompt: {vi: "Ở đâu?"}  # HERE'),
        "prompt.en: Field required",
    ),
    "bad regex": (
        ("pattern: '^[^\\d]+$'", "pattern: '^[a-z'  # HERE"),
        "invalid regex",
    ),
    "duplicate option value": (
        ("      - value: there", "      - value: here  # HERE"),
        "duplicate option value 'here'",
    ),
    "rule does not fit the type": (
        ("      after: start", "      after: start\n      pattern: 'x'  # HERE"),
        "rule pattern does not fit type month",
    ),
    "month rule points at a later question": (
        (
            "    type: month\n    label: {vi: Bắt đầu, en: Start}",
            "    type: month\n"
            "    validation: {after: end}  # HERE\n"
            "    label: {vi: Bắt đầu, en: Start}",
        ),
        "must be an earlier question",
    ),
    "choice without options": (
        ("    options:\n      - value: here", "    optionz:  # HERE\n      - value: here"),
        "optionz",
    ),
    "unknown type": (
        ("    type: yes_no", "    type: maybe  # HERE"),
        "questions.3.type: Input should be",
    ),
    "saves_as a later question": (
        (
            "    type: month\n    label: {vi: Bắt đầu",
            "    type: month\n    saves_as: end  # HERE\n    label: {vi: Bắt đầu",
        ),
        "saves_as 'end' must be an earlier question",
    ),
    "saves_as a question of another type": (
        ("      after: start", "      after: start\n    saves_as: name  # HERE"),
        "saves_as 'name' is not a month question",
    ),
    "html tag not allowed": (
        ('prompt: {vi: "Tên bạn?"', 'prompt: {vi: "<u>Tên</u> bạn?"'),
        "tag <u> is not allowed",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_variant_names_the_line(tmp_path: Path, case: str) -> None:
    (old, new), reason = BROKEN[case]
    assert old in QUESTIONS, case
    path = _write(tmp_path, QUESTIONS.replace(old, new, 1))
    with pytest.raises(ContentError) as info:
        reload_survey(path)
    marker = "# HERE" if "# HERE" in new else "<u>"
    expected_line = _line_of(path, marker)
    matching = [p for p in info.value.problems if reason in p.reason]
    assert matching, info.value
    assert matching[0].line == expected_line, info.value
    assert f"survey.yaml:{expected_line}:" in str(info.value)


def test_choice_without_options_is_refused(tmp_path: Path) -> None:
    broken = QUESTIONS.replace(
        "    options:\n      - value: here\n        label: {vi: Ở đây, en: Here}\n"
        "      - value: there\n        label: {vi: Ở kia, en: There}\n",
        "",
    )
    path = _write(tmp_path, broken)
    with pytest.raises(ContentError, match="type choice needs options") as info:
        reload_survey(path)
    assert info.value.problems[0].line == _line_of(path, "- id: where")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, QUESTIONS.replace("    type: yes_no", "   type: yes_no  # HERE"))
    with pytest.raises(ContentError, match="YAML syntax") as info:
        reload_survey(path)
    assert info.value.problems[0].line == _line_of(path, "# HERE")


def test_missing_message_and_unknown_placeholder_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, QUESTIONS)
    text = path.read_text().replace('  "skip": {vi: "vi ", en: "en "}\n', "")
    text = text.replace('"progress": {vi: "vi {n} {total}"', '"progress": {vi: "vi {n} {totl}"')
    path.write_text(text)
    with pytest.raises(ContentError) as info:
        reload_survey(path)
    reasons = " | ".join(p.reason for p in info.value.problems)
    assert "missing 'skip'" in reasons
    assert "messages.progress.vi: unknown ['totl']" in reasons
    assert "different {placeholders}" in reasons


def test_unquoted_numeric_version_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, QUESTIONS, head="version: 2026.1")
    with pytest.raises(ContentError, match="quoted string") as info:
        reload_survey(path)
    assert info.value.problems[0].line == 1
