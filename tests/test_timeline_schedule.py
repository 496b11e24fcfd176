"""content/reminders.yaml: what it must contain, errors that name the line; date arithmetic."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from bot.timeline.dates import add_months, due_window, is_quiet
from bot.timeline.render import entry_keyboard, render_text
from bot.timeline.rows import wanted_rows
from bot.timeline.schedule import REMINDERS_PATH, check_content, load_schedule
from storage.models import Person
from tests.test_timeline_support import TZ, at


def test_packaged_schedule_has_every_stage() -> None:
    """The stages the plan asks for, with the buttons other routers understand."""
    s = load_schedule()
    by_id = {r.id: r for r in s.reminders}
    assert (by_id["survey_invite"].anchor, by_id["survey_invite"].offset.months) == (
        "enlistment_month",
        15,
    )
    assert by_id["survey_nudge"].offset.days == 7
    assert by_id["survey_nudge"].condition == ("survey_unfinished",)
    assert [b.callback for b in by_id["trades_confirm"].buttons] == ["survey:review"]
    assert {by_id[k].offset.days for k in ("training_support_30d", "training_support_7d")} == {
        -30,
        -7,
    }
    assert by_id["home_check"].button_set == "home"
    assert [by_id[f"status_{m}m"].offset.months for m in (1, 3, 6, 12)] == [1, 3, 6, 12]
    assert check_content() == []


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the packaged file with one edit."""
    text = REMINDERS_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "reminders.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing needle."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("anchor: enlistment_month", "anchor: enlistment_day", "anchor"),
        ("condition: survey_unfinished", "condition: survey_maybe", "condition"),
        ("Bạn đã đi nghĩa vụ được 15", "Bạn {rank} đã đi nghĩa vụ được 15", "unknown placeholder"),
        ("<b>học nghề miễn phí</b>", "<b>học nghề miễn phí", "unclosed <b>"),
        ("<b>học nghề miễn phí</b>", "<h1>học nghề miễn phí</h1>", "not allowed"),
        ("và <b>tìm việc</b>", "& <b>tìm việc</b>", "bare '&'"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, old: str, new: str, reason: str) -> None:
    """Each mistake is reported with the file and the line it is on."""
    path = _broken(tmp_path, old, new)
    problems = check_content(path)
    assert problems, "the broken file was accepted"
    hit = [p for p in problems if reason in p.reason]
    assert hit, problems
    assert hit[0].line is not None
    assert hit[0].line == _line_of(path, new[:20])


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    """Two entries with one id cannot both be stored per person."""
    path = _broken(tmp_path, "- id: survey_nudge", "- id: survey_invite")
    assert any("duplicate reminder ids" in p.reason for p in check_content(path))


def test_add_months_clamps_to_month_end() -> None:
    """31 Jan + 1 month is the end of February; negative months go back."""
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 3, 1), -3) == date(2026, 12, 1)
    assert add_months(date(2026, 2, 1), 15) == date(2027, 5, 1)


def test_quiet_window_crosses_midnight() -> None:
    """21:00–07:30 in Lạng Sơn time is quiet; 07:30–21:00 is not."""
    start, end = time(21, 0), time(7, 30)
    assert is_quiet(at("2027-05-01", "21:00"), TZ, start, end)
    assert is_quiet(at("2027-05-02", "07:29"), TZ, start, end)
    assert not is_quiet(at("2027-05-02", "07:30"), TZ, start, end)
    assert not is_quiet(at("2027-05-02", "20:59"), TZ, start, end)


def test_due_window_uses_the_month_start_and_send_time() -> None:
    """Discharge March 2028 (any day) − 30 days → 31 Jan 2028 09:00 local, 14 days relevant."""
    s = load_schedule()
    entry = next(r for r in s.reminders if r.id == "training_support_30d")
    person = Person(discharge_month=date(2028, 3, 17))
    window = due_window(entry, person, tz=TZ, send_time=time(9, 0))
    assert window == (at("2028-01-31"), at("2028-02-14"))
    assert due_window(entry, Person(), tz=TZ, send_time=time(9, 0)) is None


def test_render_in_english_with_escaped_name_and_status_buttons() -> None:
    """Language from the person, the name escaped, the status set as buttons."""
    s = load_schedule()
    entry = next(r for r in s.reminders if r.id == "status_1m")
    person = Person(language="en", tg_first_name="<Lan & Co>", return_date=date(2026, 3, 9))
    text = render_text(s, entry, person)
    assert text.startswith("Hi &lt;Lan &amp; Co&gt;! You have been home since 03/2026.")
    markup = entry_keyboard(s, entry, "en")
    assert markup is not None
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data[0] == "tl:s:in_training" and len(data) == 8
    vi = render_text(
        s, entry, Person(language="vi", full_name="Nguyễn Văn Ánh", return_date=date(2026, 3, 9))
    )
    assert vi.startswith("Chào Ánh! Bạn về nhà từ tháng 03/2026.")
    facts = render_text(s, next(r for r in s.reminders if r.id == "training_support_30d"), person)
    assert "30.360.000 đ" in facts and "{" not in facts


def test_catch_up_only_for_someone_who_finished_after_every_stage_had_passed() -> None:
    """The latest catch_up entry of an anchor, from the moment the survey was finished."""
    s = load_schedule()
    finished = at("2026-11-20", "15:00")

    def pending(**fields: object) -> dict[str, tuple[object, object]]:
        person = Person(id=1, discharge_month=date(2026, 2, 1), **fields)
        rows = wanted_rows(person, s, now=finished, tz=TZ, send_time=time(9, 0))
        return {w.entry_id: (w.due_at, w.expires_at) for w in rows if w.status == "pending"}

    month = timedelta(days=30)
    assert pending() == {}  # never finished: stages already past stay past
    assert pending(survey_completed_at=finished) == {
        "home_check_again": (finished, finished + month)
    }
    home = pending(survey_completed_at=finished, return_date=date(2026, 2, 1))
    assert home["status_6m"] == (finished, finished + month)  # what do you do now
    assert home["status_12m"] == (at("2027-02-01"), at("2027-03-03"))  # from the date given
    assert set(home) == {"home_check_again", "status_6m", "status_12m"}
    # finished in time (a home check still current then): no catch-up, the usual stage
    on_time = at("2026-03-20")
    person = Person(id=2, discharge_month=date(2026, 2, 1), survey_completed_at=on_time)
    rows = wanted_rows(person, s, now=on_time, tz=TZ, send_time=time(9, 0))
    assert [(w.entry_id, w.due_at) for w in rows if w.status == "pending"] == [
        ("home_check_again", at("2026-03-15"))
    ]
