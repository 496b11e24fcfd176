"""The pure survey engine: skip logic, progress, pruning, parsing and the summary."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest

from bot.survey import (
    Question,
    Survey,
    add_trade,
    applicable,
    finish_list,
    format_answer,
    is_complete,
    load_survey,
    next_question,
    option_label,
    parse_choice,
    parse_month,
    parse_phone,
    parse_skip,
    parse_text_answer,
    progress,
    prompt,
    prune,
    recheck,
    stopped,
    summary_lines,
    text,
    toggle_choice,
)
from bot.survey.parsing import MonthError

TODAY = date(2026, 3, 15)


@pytest.fixture(scope="module")
def survey() -> Survey:
    return load_survey()


def full_answers(**changes: Any) -> dict[str, Any]:
    """A complete, valid set of answers (job_referral yes), with overrides."""
    answers: dict[str, Any] = {
        "consent": "all",
        "full_name": "Nguyễn Văn An",
        "phone": "+84912345678",
        "branch": "army",
        "enlistment_month": "2024-02",
        "discharge_month": "2026-02",
        "home_commune": "05986",
        "education": "upper_secondary",
        "trade_choices": [
            {"rank": 1, "code": "welding", "raw": "hàn", "score": 95.0, "source": "typed"}
        ],
        "training_level": "intermediate",
        "training_place": "in_province",
        "job_referral": "yes",
        "work_preference": "abroad",
        "loan_interest": "abroad",
        "wants_call": "yes",
    }
    answers.update(changes)
    return answers


def next_id(survey: Survey, answers: dict[str, Any]) -> str | None:
    """Id of the next question, or None when done."""
    q = next_question(survey, answers)
    return q.id if q else None


def parse(survey: Survey, qid: str, typed: str | None, answers: dict[str, Any] | None = None):
    return parse_text_answer(survey, survey.question(qid), typed, "vi", answers or {}, TODAY)


# --- skip logic, progress, prune ----------------------------------------------------------


def test_walk_order_and_skip_logic(survey: Survey) -> None:
    answers: dict[str, Any] = {}
    order = []
    while (q := next_question(survey, answers)) is not None:
        order.append(q.id)
        answers[q.id] = full_answers(job_referral="no")[q.id]
    assert "work_preference" not in order
    assert order[0] == "consent" and order[-1] == "wants_call" and len(order) == 14
    assert is_complete(survey, answers)

    with_job = {k: v for k, v in full_answers().items() if k != "work_preference"}
    assert next_id(survey, with_job) == "work_preference"


def test_refusing_consent_ends_the_survey(survey: Survey) -> None:
    answers = {"consent": "none"}
    assert [q.id for q in applicable(survey, answers)] == ["consent"]
    assert next_question(survey, answers) is None
    assert stopped(survey, answers)
    assert not stopped(survey, {"consent": "counselling_only"})
    assert next_id(survey, {"consent": "counselling_only"}) == "full_name"


def test_progress_counts_only_applicable_counted_questions(survey: Survey) -> None:
    q = survey.question
    assert progress(survey, {}, q("consent")) == (0, 14)
    assert progress(survey, {"consent": "all"}, q("full_name")) == (1, 14)
    before_job = {k: v for k, v in full_answers().items() if k in list(full_answers())[:11]}
    assert next_id(survey, before_job) == "job_referral"
    assert progress(survey, before_job, q("job_referral")) == (11, 14)  # still undecided
    answers = full_answers(job_referral="no")
    assert progress(survey, answers, q("wants_call")) == (13, 13)
    assert progress(survey, full_answers(), q("wants_call")) == (14, 14)
    assert progress(survey, full_answers(), q("loan_interest")) == (13, 14)


def test_prune_after_edit_drops_answers_no_longer_asked(survey: Survey) -> None:
    answers = full_answers(stale_unknown_question="x")
    edited = {**answers, "job_referral": "no"}
    pruned = prune(survey, edited)
    assert "work_preference" not in pruned and "stale_unknown_question" not in pruned
    assert pruned["wants_call"] == "yes" and pruned["job_referral"] == "no"
    assert "work_preference" in answers  # input left untouched
    # Switching back asks the dropped question again.
    back = {**pruned, "job_referral": "yes"}
    assert next_id(survey, back) == "work_preference"


def test_stale_answer_of_a_skipped_question_does_not_leak(survey: Survey) -> None:
    # work_preference answered earlier but job_referral now "no": not applicable, not in summary.
    answers = full_answers(job_referral="no")
    ids = [row[0] for row in summary_lines(survey, answers, "vi")]
    assert "work_preference" not in ids and "wants_call" in ids


def test_conditions_all_any_not_and_lists(survey: Survey) -> None:
    base = survey.model_dump(by_alias=True)
    extra = [
        {
            "id": "pick",
            "type": "multi_choice",
            "max_choices": 2,
            "label": {"vi": "Chọn", "en": "Pick"},
            "prompt": {"vi": "Chọn?", "en": "Pick?"},
            "options": [
                {"value": "a", "label": {"vi": "Một", "en": "One"}},
                {"value": "b", "label": {"vi": "Hai", "en": "Two"}},
                {"value": "c", "label": {"vi": "Ba", "en": "Three"}},
            ],
        },
        {
            "id": "follow",
            "type": "text",
            "label": {"vi": "Thêm", "en": "More"},
            "prompt": {"vi": "Thêm?", "en": "More?"},
            "when": {
                "all": [
                    {"question": "pick", "equals": "b"},
                    {
                        "any": [
                            {"question": "branch", "in": ["army"]},
                            {"not": {"question": "phone", "answered": True}},
                        ]
                    },
                ]
            },
        },
    ]
    base["questions"] = [*base["questions"], *extra]
    big = Survey.model_validate(base)
    answers = {**full_answers(), "pick": ["a", "b"]}
    assert next_id(big, answers) == "follow"
    assert next_question(big, {**answers, "branch": "police"}) is None
    no_phone = {**answers, "branch": "police", "phone": None}
    assert next_id(big, no_phone) == "call_phone"  # a call-back needs a number: asked again
    assert next_id(big, {**no_phone, "call_phone": None}) == "follow"
    assert next_question(big, {**answers, "pick": ["a"]}) is None

    pick = big.question("pick")
    typed = parse_text_answer(big, pick, "1, 3", "vi", {}, TODAY)
    assert typed.ok and typed.value == ["a", "c"]
    assert parse_text_answer(big, pick, "một và hai", "vi", {}, TODAY).value == ["a", "b"]
    assert parse_text_answer(big, pick, "1 2 3", "vi", {}, TODAY).error_key == "too_many_choices"
    assert parse_text_answer(big, pick, "1, 9", "vi", {}, TODAY).error_key == "not_a_choice"
    step = toggle_choice(big, pick, ["a"], "c", "vi")
    assert step.value == ["a", "c"]
    assert toggle_choice(big, pick, step.value, "b", "vi").error_key == "too_many_choices"
    assert toggle_choice(big, pick, step.value, "a", "vi").value == ["c"]
    assert finish_list(big, pick, [], "vi").error_key == "required"
    assert format_answer(big, pick, ["a", "c"], "en") == "One, Three"


# --- months -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("03/2025", "2025-03"),
        ("3/2025", "2025-03"),
        ("03-2025", "2025-03"),
        ("3.2025", "2025-03"),
        ("032025", "2025-03"),
        ("T3/2025", "2025-03"),
        ("tháng 3/2025", "2025-03"),
        ("Tháng 03 năm 2025", "2025-03"),
        ("03/25", "2025-03"),
        (" 3 / 2025 ", "2025-03"),
        ("2025-03", "2025-03"),
        ("15/03/2025", "2025-03"),
        ("29/02/2024", "2024-02"),
    ],
)
def test_month_accepted(survey: Survey, typed: str, stored: str) -> None:
    result = parse(survey, "enlistment_month", typed)
    assert result.ok, result
    assert result.value == stored


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("13/2025", "impossible_month"),
        ("00/2025", "impossible_month"),
        ("31/02/2025", "impossible_month"),
        ("29/02/2025", "impossible_month"),
        ("abc", "bad_month_format"),
        ("tháng ba", "bad_month_format"),
        ("2025", "bad_month_format"),
        ("04/2026", "month_in_future"),  # enlistment cannot be in the future
        ("02/2021", "month_too_old"),  # more than 5 years before 03/2026
        ("9" * 5000, "too_long"),
    ],
)
def test_month_refused(survey: Survey, typed: str, key: str) -> None:
    result = parse(survey, "enlistment_month", typed)
    assert not result.ok and result.error_key == key
    assert result.error and "{" not in result.error


def test_month_limits_are_inclusive(survey: Survey) -> None:
    assert parse(survey, "enlistment_month", "03/2026").ok
    assert parse(survey, "enlistment_month", "03/2021").ok


def test_discharge_rules_use_enlistment(survey: Survey) -> None:
    earlier = {"enlistment_month": "2024-07"}
    before = parse(survey, "discharge_month", "06/2024", earlier)
    assert before.error_key == "month_before" and "07/2024" in before.error
    assert parse(survey, "discharge_month", "07/2024", earlier).ok
    assert parse(survey, "discharge_month", "01/2025", earlier).value == "2025-01"  # past is fine
    assert parse(survey, "discharge_month", "07/2027", earlier).ok  # exactly 36 months
    too_far = parse(survey, "discharge_month", "08/2027", earlier)
    assert too_far.error_key == "month_too_far" and "07/2027" in too_far.error
    assert "36" in too_far.error


def test_recheck_flags_discharge_after_enlistment_edit(survey: Survey) -> None:
    assert recheck(survey, full_answers(), TODAY) == []
    edited = full_answers(enlistment_month="2026-03")
    assert recheck(survey, edited, TODAY) == ["discharge_month"]
    assert recheck(survey, full_answers(branch="navy"), TODAY) == ["branch"]


def test_parse_month_function_directly() -> None:
    assert str(parse_month("12/99")) == "2099-12"
    with pytest.raises(MonthError) as info:
        parse_month("03/1800")
    assert info.value.key == "impossible_month"


# --- phones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "84912345678",
        "+84912345678",
        "+84 912-345-678",
        "+84 0912 345 678",
        "0084 912 345 678",
        "912345678",
        "(+84) 912 345 678",
    ],
)
def test_phone_normalised(survey: Survey, typed: str) -> None:
    result = parse(survey, "phone", typed)
    assert result.ok and result.value == "+84912345678"


@pytest.mark.parametrize(
    "typed",
    [
        "0205 3812 345",  # Lạng Sơn landline
        "02053812345",
        "0912 345 67",  # too short
        "09123456789",  # too long
        "0112345678",  # no such mobile prefix
        "+1 202 555 0101",
        "+85 912345678",
        "abc",
        "0912 345 678 hoặc 0987",
        "０９１２３４５６７８",  # full-width digits
    ],
)
def test_phone_refused(survey: Survey, typed: str) -> None:
    result = parse(survey, "phone", typed)
    assert not result.ok and result.error_key == "bad_phone"


def test_other_mobile_prefixes() -> None:
    assert parse_phone("0389 123 456") == "+84389123456"
    assert parse_phone("0868123456") == "+84868123456"
    assert parse_phone("0701234567") == "+84701234567"


def test_phone_is_optional_but_others_are_not(survey: Survey) -> None:
    assert parse_skip(survey, survey.question("phone"), "vi").ok
    refused = parse_skip(survey, survey.question("full_name"), "vi")
    assert refused.error_key == "required" and refused.error


# --- text ---------------------------------------------------------------------------------


def test_name_is_cleaned_and_checked(survey: Survey) -> None:
    assert parse(survey, "full_name", "  Hoàng   Thị\nNgọc Ánh ").value == "Hoàng Thị Ngọc Ánh"
    assert parse(survey, "full_name", "Lò A").ok
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert parse(survey, "full_name", nfd).value == unicodedata.normalize("NFC", "Nguyễn Văn An")
    assert parse(survey, "full_name", "A").error_key == "too_short"
    assert parse(survey, "full_name", "An" * 60).error_key == "too_long"
    assert parse(survey, "full_name", "Nguyen Van 123").error_key == "pattern_mismatch"
    assert parse(survey, "full_name", "😀😀😀").error_key == "pattern_mismatch"
    assert parse(survey, "full_name", "<script>x</script>").error_key == "pattern_mismatch"
    assert parse(survey, "full_name", "   ").error_key == "required"
    assert parse(survey, "full_name", None).error_key == "text_expected"


def test_five_thousand_characters_do_not_crash(survey: Survey) -> None:
    for qid in ("full_name", "phone", "branch", "home_commune", "trade_choices"):
        result = parse(survey, qid, "ả" * 5000)
        assert not result.ok and result.error_key == "too_long", qid
    assert "100" in parse(survey, "full_name", "x" * 5000).error


def test_free_text_is_returned_raw_not_escaped(survey: Survey) -> None:
    base = survey.model_dump(by_alias=True)
    base["questions"] = [
        {
            "id": "note",
            "type": "text",
            "label": {"vi": "Ghi chú", "en": "Note"},
            "prompt": {"vi": "Ghi chú?", "en": "Note?"},
        }
    ]
    small = Survey.model_validate(base)
    note = small.question("note")
    raw = "<b>Bold</b> & <i>x</i>"
    result = parse_text_answer(small, note, raw, "vi", {}, TODAY)
    assert result.ok and result.value == raw
    assert format_answer(small, note, raw, "vi") == raw
    assert summary_lines(small, {"note": raw}, "en") == [("note", "Note", raw)]


def test_matcher_questions_ask_for_the_matcher(survey: Survey) -> None:
    result = parse(survey, "home_commune", "  tam   thanh ")
    assert not result.ok and result.needs_matcher and result.value == "tam thanh"
    assert result.error is None
    assert parse(survey, "trade_choices", "sửa xe máy").needs_matcher


# --- choices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qid", "typed", "value"),
    [
        ("branch", "Công an", "police"),
        ("branch", "cong an", "police"),
        ("branch", "CÔNG AN", "police"),
        ("branch", "2", "police"),
        ("branch", "số 3", "border_guard"),
        ("branch", "biên phòng", "border_guard"),
        ("branch", "Army", "army"),
        ("branch", "bộ đội", "army"),
        ("education", "Cao đẳng", "college"),
        ("education", "cao dang", "college"),
        ("education", "lớp 12", "upper_secondary"),
        ("education", "9", "lower_secondary"),
        ("training_level", "sơ cấp", "elementary"),
        ("job_referral", "có", "yes"),
        ("job_referral", "Co", "yes"),
        ("job_referral", "ko", "no"),
        ("job_referral", "Không", "no"),
        ("job_referral", "2", "no"),
        ("consent", "Không đồng ý", "none"),
        ("consent", "chỉ nhận tư vấn", "counselling_only"),
        ("consent", "tôi đồng ý", "all"),
        ("loan_interest", "nước ngoài", "abroad"),
    ],
)
def test_typed_choice(survey: Survey, qid: str, typed: str, value: str) -> None:
    result = parse(survey, qid, typed)
    assert result.ok, result
    assert result.value == value


@pytest.mark.parametrize(
    ("qid", "typed"),
    [("branch", "4"), ("branch", "0"), ("branch", "hải quân"), ("job_referral", "có lẽ")],
)
def test_typed_choice_refused(survey: Survey, qid: str, typed: str) -> None:
    result = parse(survey, qid, typed)
    assert not result.ok and result.error_key == "not_a_choice"


def test_pressed_button_values(survey: Survey) -> None:
    branch = survey.question("branch")
    assert parse_choice(branch, "police").value == "police"
    bad = parse_choice(branch, "navy")
    assert not bad.ok and bad.error_key == "not_a_choice" and bad.error is None
    assert parse_choice(branch, "navy", survey, "en").error == text(survey, "not_a_choice", "en")


# --- trades -------------------------------------------------------------------------------


def test_add_trade_ranks_and_limits(survey: Survey) -> None:
    q = survey.question("trade_choices")
    chosen: list[dict[str, Any]] = []
    for code in ("weld", "cook", "drive"):
        step = add_trade(
            survey, q, chosen, code=code, raw=code, score=90.0, source="typed", lang="vi"
        )
        assert step.ok
        chosen = step.value
    assert [e["rank"] for e in chosen] == [1, 2, 3]
    dup = add_trade(
        survey, q, chosen[:2], code="weld", raw="hàn", score=90.0, source="quiz", lang="vi"
    )
    assert dup.error_key == "trade_duplicate"
    full = add_trade(survey, q, chosen, code="it", raw="it", score=80.0, source="typed", lang="vi")
    assert full.error_key == "too_many_choices" and "3" in (full.error or "")
    with pytest.raises(ValueError):
        add_trade(survey, q, [], code="x", raw="x", score=1.0, source="guess", lang="vi")


# --- texts and summary --------------------------------------------------------------------


def test_text_lookup_fills_placeholders_and_falls_back(survey: Survey) -> None:
    assert text(survey, "progress", "vi", n=2, total=14) == "Câu 2/14"
    assert text(survey, "progress", "en", n=2, total=14) == "Question 2/14"
    assert text(survey, "progress", "fr", n=1, total=2) == "Câu 1/2"
    assert text(survey, "progress", "vi") == "Câu {n}/{total}"
    assert "Lạng Sơn" in text(survey, "commune_outside", "vi", name="Xã X", province="Cao Bằng")
    assert (
        prompt(survey.question("branch"), "en")
        == "Which force are you serving or did you serve in?"
    )
    assert option_label(survey.question("job_referral"), "yes", "vi") == "Có"
    with pytest.raises(KeyError):
        text(survey, "no_such_message", "vi")


def test_summary_formats_every_type(survey: Survey) -> None:
    answers = full_answers(
        phone=None,
        trade_choices=[
            {"rank": 2, "code": "cook", "raw": "nấu ăn", "score": 88.0, "source": "typed"},
            {"rank": 1, "code": "weld", "raw": "hàn", "score": 95.0, "source": "quiz"},
        ],
    )
    names = {"weld": "Hàn", "cook": "Nấu ăn"}
    rows = summary_lines(
        survey,
        answers,
        "vi",
        commune_name=lambda code: {"05986": "Phường Tam Thanh"}[code],
        trade_name=lambda code, lang: names[code],
    )
    shown = {qid: value for qid, _, value in rows}
    labels = {qid: label for qid, label, _ in rows}
    assert [r[0] for r in rows] == list(full_answers())
    assert labels["enlistment_month"] == "Tháng nhập ngũ"
    assert shown["enlistment_month"] == "02/2024"
    assert shown["phone"] == "(bỏ qua)"
    assert shown["home_commune"] == "Phường Tam Thanh"
    assert shown["trade_choices"] == "1. Hàn\n2. Nấu ăn"
    assert shown["branch"] == "Quân đội" and shown["job_referral"] == "Có"
    assert shown["full_name"] == "Nguyễn Văn An"

    q = survey.question
    assert format_answer(survey, q("phone"), "+84912345678", "vi") == "0912 345 678"
    assert format_answer(survey, q("home_commune"), "05986", "en") == "05986"
    no_names = format_answer(survey, q("trade_choices"), answers["trade_choices"], "en")
    assert no_names == "1. hàn\n2. nấu ăn"


def test_question_objects_are_typed(survey: Survey) -> None:
    q = survey.question("home_commune")
    assert isinstance(q, Question) and q.needs_matcher and not q.optional
    assert survey.question("phone").optional
    with pytest.raises(KeyError):
        survey.question("nope")
