"""The ranker's factors, hard filters, the 1-in-3 rule, reasons and the pieces of a profile."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.content_loading import ContentError
from bot.matching.catalog import TRADES_PATH, load_trades
from bot.matching.factors import broaden, course_timing, fair_timing
from bot.matching.items import CourseItem, FairItem, Match, PolicyItem, Profile, VacancyItem
from bot.matching.places import all_places, place, road_km
from bot.matching.rank import WEIGHTS, applicable_policies
from bot.matching.reasons import reason_line
from bot.matching.service import age_bounds, interest_code, licences_from, ranker, trade_catalog
from storage.models import Person

TODAY = date(2026, 9, 1)
DONG_KINH, KY_LUA, HUU_LUNG, CAO_LOC, BAC_GIANG = "5977", "6187", "6385", "6193", "7210"
ND338 = PolicyItem(
    "nd338",
    ("so_cap", "duoi_3_thang"),
    ("discharged", "police_discharged"),
    ("tuition",),
    date(2026, 1, 1),
)


def person(**values: object) -> Profile:
    base: dict[str, object] = {
        "person_id": 1,
        "trades": ("weld",),
        "home_code": KY_LUA,
        "education": "upper_secondary",
        "training_place": "in_province",
        "work_place": "in_province",
        "min_age": 21,
        "max_age": 29,
        "returned": True,
        "groups": frozenset({"discharged"}),
    }
    base.update(values)
    return Profile(**base)  # type: ignore[arg-type]


def course(**values: object) -> CourseItem:
    base: dict[str, object] = {
        "id": 1,
        "trade_code": "weld",
        "level": "so_cap",
        "title": "Hàn",
        "institution": "CĐ",
        "start_date": date(2026, 9, 20),
        "venue_code": KY_LUA,
        "policies": (ND338,),
    }
    base.update(values)
    return CourseItem(**base)  # type: ignore[arg-type]


def vacancy(**values: object) -> VacancyItem:
    base: dict[str, object] = {
        "id": 1,
        "position": "Thợ hàn",
        "employer": "Cty",
        "trade_code": "weld",
        "work_place_code": KY_LUA,
    }
    base.update(values)
    return VacancyItem(**base)  # type: ignore[arg-type]


def fair(**values: object) -> FairItem:
    base: dict[str, object] = {"id": 1, "title": "Phiên", "day": date(2026, 9, 10)}
    base.update(values)
    return FairItem(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- trade fit


def test_trade_fit_by_choice_then_related_tier() -> None:
    r = ranker()
    p = person(trades=("weld", "elec_home", "cooking"))
    assert r.trade_fit(p, "weld") == (1.0, False)
    assert r.trade_fit(p, "elec_home") == (0.9, False)
    assert r.trade_fit(p, "cooking") == (0.8, False)
    assert r.trade_fit(p, "steel_structure") == (0.7, True)  # close to the 1st choice
    assert r.trade_fit(p, "machining") == (0.5, True)  # broad to the 1st choice
    assert r.trade_fit(p, "elec_ind") == (pytest.approx(0.63), True)  # close to the 2nd (0.7×0.9)
    assert r.trade_fit(p, "korean") == (0.0, False)


def test_related_lists_read_both_ways_and_must_name_trades(tmp_path: Path) -> None:
    related = trade_catalog().related()
    assert related["steel_structure"]["weld"] == "close"
    assert related["weld"]["steel_structure"] == "close"
    bad = tmp_path / "trades.yaml"
    text = TRADES_PATH.read_text(encoding="utf-8")
    bad.write_text(text.replace("close: [steel_structure,", "close: [welding_x,", 1), "utf-8")
    with pytest.raises(ContentError, match="welding_x"):
        load_trades(bad)


def test_an_unrelated_course_is_never_shown() -> None:
    assert ranker().course(person(), course(trade_code="korean"), TODAY) is None


# ---------------------------------------------------------------------- places and distance


def test_points_join_by_name_not_by_code() -> None:
    cao_loc = place(CAO_LOC)  # 6193 in vietnam-provinces, another number in vietnamadminunits
    assert cao_loc is not None and cao_loc.name == "Xã Cao Lộc"
    assert abs(cao_loc.lat - 21.94) < 0.05
    assert len(all_places()) == 3321
    assert road_km(KY_LUA, CAO_LOC) == road_km(int(CAO_LOC), "0" + KY_LUA)
    assert road_km(KY_LUA, None) is None and road_km(KY_LUA, "99999") is None
    road_km(CAO_LOC, KY_LUA)
    before = road_km.cache_info().hits
    road_km(CAO_LOC, KY_LUA)
    assert road_km.cache_info().hits == before + 1


def test_distance_factor() -> None:
    r = ranker()
    assert r.distance(person(), KY_LUA, kind="course") == (1.0, 0.0)
    factor, km = r.distance(person(training_place="near_home"), HUU_LUNG, kind="course")
    assert km is not None and km > 50 and factor == 0.0
    assert r.distance(person(), HUU_LUNG, kind="course")[0] == 0.5  # "in the province"
    assert r.distance(person(training_place="outside_province"), HUU_LUNG, kind="course")[0] == 0.7
    assert r.distance(person(), HUU_LUNG, kind="fair")[0] < 0.2  # a day trip: no floor
    assert r.distance(person(), BAC_GIANG, kind="vacancy")[0] == 0.0  # another province
    assert r.distance(person(work_place="other_province"), BAC_GIANG, kind="vacancy")[0] == 0.7
    assert r.distance(person(home_code=None), KY_LUA, kind="course") == (0.5, None)
    near = r.distance(person(home_code=DONG_KINH), KY_LUA, kind="course")
    assert near[0] == 1.0 and near[1] is not None and 5 < near[1] < 15


# ---------------------------------------------------------------------- timing


def test_course_timing_from_today_or_discharge() -> None:
    back = person()
    assert course_timing(back, date(2026, 9, 20), TODAY) == 1.0
    assert course_timing(back, date(2026, 9, 3), TODAY) < 1.0
    assert course_timing(back, date(2027, 6, 1), TODAY) < 0.3
    assert course_timing(back, None, TODAY) == 0.5
    serving = person(returned=False, discharge_month=date(2027, 1, 1))
    assert course_timing(serving, date(2027, 1, 18), TODAY) == 1.0
    assert course_timing(back, date(2027, 1, 18), TODAY) < 1.0


def test_fair_timing() -> None:
    assert fair_timing(date(2026, 9, 10), TODAY, TODAY) == 1.0
    assert fair_timing(TODAY, TODAY, TODAY) == 0.7
    assert fair_timing(date(2026, 12, 1), TODAY, TODAY) == 0.2
    assert fair_timing(date(2027, 1, 5), TODAY, date(2027, 1, 1)) == 1.0


# ---------------------------------------------------------------------- support


def support(p: Profile, c: CourseItem) -> float:
    found = ranker().course(p, c, TODAY)
    assert found is not None
    return found.factors["support"]


def test_support_needs_an_active_policy_for_the_level_and_group() -> None:
    assert support(person(), course()) == 1.0
    assert support(person(), course(policies=())) == 0.0
    assert support(person(), course(fee_vnd=0, policies=())) == 1.0  # free
    ended = replace(ND338, valid_from=date(2015, 1, 1), valid_to=date(2025, 12, 31))
    assert support(person(), course(policies=(ended,))) == 0.0
    later = replace(ND338, valid_from=date(2027, 1, 1))
    assert support(person(), course(policies=(later,))) == 0.0
    soldiers = replace(ND338, target_groups=("discharged",))
    police = person(groups=frozenset({"police_discharged"}))
    assert support(police, course(policies=(soldiers,))) == 0.0
    assert support(police, course()) == 1.0
    assert support(person(groups=frozenset()), course(policies=(soldiers,))) == 1.0  # unknown
    assert support(person(groups=frozenset({"x"})), course(policies=(soldiers,))) == 0.0


def test_support_window_after_discharge() -> None:
    window = replace(ND338, window_months=12)
    early = person(discharge_month=date(2026, 3, 1))
    late = person(discharge_month=date(2025, 6, 1))
    assert support(early, course(policies=(window,))) == 1.0
    assert support(late, course(policies=(window,))) == 0.0


def test_applicable_policies() -> None:
    tc = PolicyItem("tc", ("trung_cap",))
    assert applicable_policies("so_cap", (), (ND338, tc)) == (ND338,)
    assert applicable_policies("so_cap", ("tc",), (ND338, tc)) == ()  # named, wrong level
    assert applicable_policies("trung_cap", ("tc",), (ND338, tc)) == (tc,)


# ---------------------------------------------------------------------- interest, level, pay


def test_interest_is_a_soft_signal_from_the_quiz() -> None:
    r = ranker()
    assert r.interest_fit(person(interest_code="RC"), "weld") == 1.0  # weld is RC
    assert 0 < r.interest_fit(person(interest_code="RI"), "weld") < 1.0
    assert r.interest_fit(person(interest_code="SE"), "weld") == 0.0
    assert r.interest_fit(person(), "weld") == 0.5
    trades = trade_catalog()
    assert interest_code([("weld", "quiz:RIC")], trades) == "RIC"
    assert interest_code([("weld", "hàn"), ("cooking", None)], trades) == "RCA"
    assert interest_code([], trades) is None


def test_level_and_pay() -> None:
    r = ranker()
    wish = person(wish_level="intermediate")
    tc = r.course(wish, course(level="trung_cap", policies=()), TODAY)
    sc = r.course(wish, course(), TODAY)
    assert tc is not None and sc is not None
    assert (tc.factors["level"], sc.factors["level"]) == (1.0, 0.3)
    job = r.vacancy(person(), vacancy(pay_min_vnd=8_000_000), TODAY)
    unknown = r.vacancy(person(), vacancy(), TODAY)
    assert job is not None and unknown is not None
    assert (job.factors["pay"], unknown.factors["pay"]) == (0.8, 0.5)


def test_score_is_the_weighted_sum() -> None:
    found = ranker().course(person(), course(), TODAY)
    assert found is not None
    total = sum(WEIGHTS[k] * v for k, v in found.factors.items())
    assert found.score == pytest.approx(total, abs=1e-3)


# ---------------------------------------------------------------------- hard filters


def test_hard_filter_age() -> None:
    r = ranker()
    assert r.course(person(min_age=36, max_age=40), course(max_age=35), TODAY) is None
    assert r.course(person(min_age=19, max_age=20), course(min_age=21), TODAY) is None
    assert r.course(person(min_age=20, max_age=29), course(min_age=21, max_age=35), TODAY)
    assert r.vacancy(person(min_age=40, max_age=44), vacancy(age_max=39), TODAY) is None
    assert r.fair(person(min_age=41, max_age=45), fair(max_age=39), TODAY) is None


def test_hard_filter_education() -> None:
    r = ranker()
    need = course(min_education="upper_secondary")
    assert r.course(person(education="lower_secondary"), need, TODAY) is None
    assert r.course(person(education="university"), need, TODAY) is not None
    assert r.course(person(education=None), need, TODAY) is not None  # the school checks
    job = vacancy(education_min="vocational_intermediate")
    assert r.vacancy(person(), job, TODAY) is None


def test_hard_filter_licence() -> None:
    r = ranker()
    upgrade = course(trade_code="drive_cd", level="lai_xe", requires_license="C1")
    drivers = person(trades=("drive_cd",))
    assert r.course(drivers, upgrade, TODAY) is None
    assert r.course(replace(drivers, licences=licences_from(["drive_c1"])), upgrade, TODAY)
    assert licences_from(["drive_cd"]) == {"B", "C1", "C"}
    assert r.vacancy(person(), vacancy(license_required="B"), TODAY) is None


def test_hard_filter_deadlines_dates_seats_and_dismissed() -> None:
    r = ranker()
    p = person()
    assert r.course(p, course(enrol_deadline=date(2026, 8, 31)), TODAY) is None
    assert r.course(p, course(enrol_deadline=TODAY), TODAY) is not None
    assert r.course(p, course(start_date=date(2026, 8, 31)), TODAY) is None
    assert r.course(p, course(seats_left=0), TODAY) is None
    assert r.course(replace(p, dismissed=frozenset({("course", 1)})), course(), TODAY) is None
    assert r.vacancy(p, vacancy(valid_to=date(2026, 8, 31)), TODAY) is None
    assert r.fair(p, fair(day=date(2026, 8, 31)), TODAY) is None


def test_hard_filters_for_someone_still_serving() -> None:
    r = ranker()
    serving = person(returned=False, discharge_month=date(2027, 1, 1))
    assert r.course(serving, course(), TODAY) is None  # starts before he is home
    assert r.course(serving, course(start_date=date(2027, 1, 11)), TODAY) is not None
    assert r.fair(serving, fair(mode="online"), TODAY) is None
    assert r.fair(serving, fair(day=date(2027, 1, 12)), TODAY) is not None
    assert r.vacancy(serving, vacancy(valid_to=date(2026, 12, 31)), TODAY) is None


def test_abroad_only_for_those_who_want_it() -> None:
    r = ranker()
    korea = vacancy(country="KR", work_place_code=None, pay_min_vnd=35_000_000)
    assert r.vacancy(person(), korea, TODAY) is None
    found = r.vacancy(person(work_place="abroad"), korea, TODAY)
    assert found is not None and found.factors["distance"] == 1.0
    assert reason_line(found, "vi", trade_catalog()).startswith("Làm việc tại Hàn Quốc")
    assert reason_line(found, "en", trade_catalog()).startswith("Work in South Korea")


# ---------------------------------------------------------------------- 1 in 3


def m(item_id: int, score: float, related: bool) -> Match:
    return Match("course", item_id, score, {}, (), related)


def test_at_most_one_related_in_each_three() -> None:
    ranked = [m(1, 0.9, True), m(2, 0.8, True), m(3, 0.7, True), m(4, 0.6, False)]
    ranked += [m(5, 0.5, False), m(6, 0.4, False), m(7, 0.3, False)]
    top3 = broaden(ranked, 3)
    assert [x.item_id for x in top3] == [1, 4, 5]
    top6 = broaden(ranked, 6)
    assert [x.item_id for x in top6] == [1, 4, 5, 2, 6, 7]
    assert sum(x.related for x in top6[:3]) == 1 and sum(x.related for x in top6) == 2
    assert [x.item_id for x in broaden(ranked[:3], 3)] == [1]  # never more, even if nothing else


def test_rank_keeps_the_rule_on_real_items() -> None:
    items = [course(id=i, trade_code="steel_structure") for i in (1, 2, 3)]
    items.append(course(id=4, venue_code=HUU_LUNG))
    shown = ranker().rank(person(), items, TODAY, limit=3)
    assert [x.related for x in shown].count(True) == 1
    assert {x.item_id for x in shown} == {1, 4}


# ---------------------------------------------------------------------- profile pieces


def test_age_bounds_from_enlistment() -> None:
    someone = Person(enlistment_month=date(2024, 2, 1))
    assert age_bounds(someone, TODAY) == (20, 30)
    assert age_bounds(Person(), TODAY) == (None, None)


def test_reason_line_words() -> None:
    r = ranker()
    found = r.course(person(home_code=DONG_KINH), course(), TODAY)
    assert found is not None
    assert reason_line(found, "vi", trade_catalog()) == (
        "Gần nhà ~8 km · đúng nghề hàn · được hỗ trợ học phí · khai giảng 20/09"
    )
    assert reason_line(found, "en", trade_catalog()) == (
        "Near home, ~8 km · your trade: Welding · tuition paid by state support · starts 20/09"
    )
    related = r.course(person(), course(trade_code="steel_structure", fee_vnd=0), TODAY)
    assert related is not None and related.related
    assert reason_line(related, "vi", trade_catalog()) == (
        "Ngay tại xã/phường của bạn · nghề gia công và lắp dựng kết cấu thép, gần với nghề hàn"
        " bạn chọn · học miễn phí · khai giảng 20/09"
    )
