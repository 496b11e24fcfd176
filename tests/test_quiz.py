"""Interest quiz: content validation, scoring, recommendations."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content_loading import ContentError
from bot.matching.catalog import load_trades
from bot.quiz import (
    QUIZ_PATH,
    Quiz,
    fit,
    load_quiz,
    recommend,
    recommend_for_code,
    score,
    top_areas,
)


@pytest.fixture(scope="module")
def quiz() -> Quiz:
    return load_quiz()


def test_quiz_shape(quiz: Quiz) -> None:
    assert len(quiz.items) == 12
    assert sorted(item.area for item in quiz.items) == sorted("RRIIAASSEECC")
    assert [o.value for o in quiz.scale] == ["like", "unsure", "dislike"]
    assert "{areas}" in quiz.result.top.vi and quiz.intro.vi and quiz.intro.en


def test_score_sorted_with_tie_break(quiz: Quiz) -> None:
    answers = {"c1": "like", "c2": "like", "r1": "like", "e1": "unsure", "s1": "dislike"}
    assert score(answers, quiz) == [("C", 4), ("R", 2), ("E", 1), ("I", 0), ("A", 0), ("S", 0)]
    assert score({}, quiz)[0] == ("R", 0)


def test_top_areas_need_a_like(quiz: Quiz) -> None:
    answers = {"r1": "like", "r2": "like", "c1": "like", "i1": "unsure", "i2": "unsure"}
    assert top_areas(answers, quiz) == "RC"
    assert top_areas({item.id: "unsure" for item in quiz.items}, quiz) == ""


def test_unknown_answer_value_is_an_error(quiz: Quiz) -> None:
    with pytest.raises(ValueError):
        score({"r1": "love"}, quiz)


def test_fit_weights_positions() -> None:
    assert fit("RC", "RC") == 3 * 3 + 2 * 2
    assert fit("RC", "CR") == 3 * 2 + 2 * 3
    assert fit("R", "SE") == 0
    assert fit("RC", "RIC") > fit("RC", "IC")


def test_recommend_realistic_for_hands_on_person(quiz: Quiz) -> None:
    catalog = load_trades()
    answers = {"r1": "like", "r2": "like", "c2": "like"}
    picks = recommend(catalog, answers, n=3, quiz=quiz)
    assert len(picks) == 3
    assert all(p.riasec[0] == "R" for p in picks)
    assert len({p.group for p in picks}) == 3  # diverse groups
    assert recommend(catalog, answers, n=3, quiz=quiz) == picks  # deterministic


def test_recommend_social_enterprising(quiz: Quiz) -> None:
    catalog = load_trades()
    answers = {"s1": "like", "s2": "like", "e1": "like"}
    picks = recommend(catalog, answers, n=3, quiz=quiz)
    assert picks[0].code == "hospitality"  # riasec SE
    assert all("S" in p.riasec or "E" in p.riasec for p in picks)


def test_recommend_nothing_without_likes(quiz: Quiz) -> None:
    assert recommend(load_trades(), {"r1": "dislike"}, quiz=quiz) == []


def test_recommend_for_code_not_diverse_keeps_order() -> None:
    catalog = load_trades()
    plain = recommend_for_code(catalog, "R", n=4, diverse=False)
    assert [t.code for t in plain] == [t.code for t in catalog if t.riasec[0] == "R"][:4]


def test_result_message(quiz: Quiz) -> None:
    catalog = load_trades()
    answers = {"a1": "like", "a2": "like"}
    vi = quiz.result_message(answers, "vi")
    assert vi.startswith("Theo câu trả lời của bạn:\n• Bạn thích làm ra cái mới, cái đẹp")
    assert "+" not in vi and "bấm một nghề để chọn" in vi  # plain words; trades are buttons
    assert "You like making new, good-looking things" in quiz.result_message(answers, "en")
    assert quiz.result_message({}) == quiz.result.no_likes.vi
    assert "graphic_design" in [t.code for t in recommend(catalog, answers)]


def test_broken_quiz_names_the_line(tmp_path: Path) -> None:
    text = QUIZ_PATH.read_text(encoding="utf-8")
    broken = text.replace("    area: I\n", "    area: X\n", 1)
    path = tmp_path / "quiz.yaml"
    path.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index("    area: X") + 1
    with pytest.raises(ContentError) as err:
        load_quiz(path)
    assert f"{path}:{line}:" in str(err.value)


def test_quiz_with_three_items_in_one_area_is_rejected(tmp_path: Path) -> None:
    text = QUIZ_PATH.read_text(encoding="utf-8")
    path = tmp_path / "quiz.yaml"
    path.write_text(text.replace("    area: I\n", "    area: R\n", 1), encoding="utf-8")
    with pytest.raises(ContentError, match="exactly 2 items"):
        load_quiz(path)
