"""Matching typed commune/ward names to the wards of Lạng Sơn (province 20)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner
from vietnam_provinces import ProvinceCode, Ward

from bot.cli.matching import communes_app
from bot.matching.communes import CommuneMatcher


@pytest.fixture(scope="module")
def matcher() -> CommuneMatcher:
    return CommuneMatcher(20)


def test_all_comes_from_the_library(matcher: CommuneMatcher) -> None:
    expected = {str(int(w.code)): w.name for w in Ward.iter_by_province(ProvinceCode(20))}
    assert dict(matcher.all()) == expected
    assert matcher.name_for("6193") == "Xã Cao Lộc"
    assert matcher.name_for("70") is None  # Hoàn Kiếm, Hà Nội


@pytest.mark.parametrize(
    "text",
    ["Cao Lộc", "cao loc", "xã Cao Lộc", "x. cao loc", "Xa Cao Loc", "caoloc", "Cao Lộc, Lạng Sơn"],
)
def test_accepts_with_or_without_diacritics_and_prefix(matcher: CommuneMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.decision == "accept"
    assert result.candidates[0].code == "6193" and result.candidates[0].score == 100.0


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("P. Đông Kinh", "Phường Đông Kinh"),
        ("phuong ky lua", "Phường Kỳ Lừa"),
        ("Chi Lang", "Xã Chi Lăng"),
        ("Huu Lung", "Xã Hữu Lũng"),
    ],
)
def test_old_district_names_and_wards(matcher: CommuneMatcher, text: str, name: str) -> None:
    result = matcher.match(text)
    assert result.decision == "accept" and result.candidates[0].name == name


def test_typo_still_matches(matcher: CommuneMatcher) -> None:
    result = matcher.match("Tràng Đinhh")
    assert result.decision in ("accept", "ask")
    assert result.candidates[0].name == "Xã Tràng Định"


def test_ambiguous_asks_up_to_five(matcher: CommuneMatcher) -> None:
    result = matcher.match("Thiện")
    assert result.decision == "ask"
    assert 2 <= len(result.candidates) <= 5
    assert all(c.name.startswith("Xã Thiện") for c in result.candidates)
    assert len(matcher.match("Tân").candidates) == 5


@pytest.mark.parametrize(
    ("text", "province"),
    [
        ("Hoàn Kiếm", "Hà Nội"),
        ("hoan kiem", "Hà Nội"),
        ("Hà Nội", "Hà Nội"),
        ("Sài Gòn", "Hồ Chí Minh"),
    ],
)
def test_outside(matcher: CommuneMatcher, text: str, province: str) -> None:
    result = matcher.match(text)
    assert result.decision == "outside"
    assert result.outside_province_name == province


def test_none_for_nonsense(matcher: CommuneMatcher) -> None:
    assert matcher.match("xyzzy qwerty").decision == "none"
    assert matcher.match("").decision == "none"


def test_province_name_asks_among_its_wards(matcher: CommuneMatcher) -> None:
    result = matcher.match("TP Lạng Sơn")
    assert result.decision == "ask"
    assert all(c.name.startswith("Phường") for c in result.candidates)


def test_other_province_matcher() -> None:
    hanoi = CommuneMatcher(1)
    assert hanoi.match("Hoàn Kiếm").decision == "accept"
    assert hanoi.match("Cao Lộc").outside_province_name == "Lạng Sơn"


def test_cli(matcher: CommuneMatcher) -> None:
    root = typer.Typer()
    root.add_typer(communes_app, name="communes")
    runner = CliRunner()
    table = runner.invoke(root, ["communes", "match", "dong dang"])
    assert table.exit_code == 0 and "Xã Đồng Đăng" in table.output
    out = runner.invoke(root, ["communes", "match", "Hoàn Kiếm", "--json"])
    payload = json.loads(out.output)
    assert payload["decision"] == "outside" and payload["outside_province_name"] == "Hà Nội"


@pytest.mark.parametrize(
    ("text", "name", "former"),
    [
        ("thị trấn Cao Lộc", "Phường Kỳ Lừa", "Thị trấn Cao Lộc (Huyện Cao Lộc)"),
        ("TT Cao Loc", "Phường Kỳ Lừa", "Thị trấn Cao Lộc (Huyện Cao Lộc)"),
        ("thi tran dong mo", "Xã Chi Lăng", "Thị trấn Đồng Mỏ (Huyện Chi Lăng)"),
        ("Đồng Mỏ", "Xã Chi Lăng", "Thị trấn Đồng Mỏ (Huyện Chi Lăng)"),
        ("Hợp Thành", "Phường Kỳ Lừa", "Xã Hợp Thành (Huyện Cao Lộc)"),
        ("Mai Pha", "Phường Đông Kinh", "Xã Mai Pha (Thành phố Lạng Sơn)"),
        ("TT Đồng Đăng", "Xã Đồng Đăng", "Thị trấn Đồng Đăng (Huyện Cao Lộc)"),
        ("phường Chi Lăng", "Phường Lương Văn Tri", "Phường Chi Lăng (Thành phố Lạng Sơn)"),
        ("phường Hoàng Văn Thụ", "Phường Kỳ Lừa", "Phường Hoàng Văn Thụ (Thành phố Lạng Sơn)"),
        ("xã Hồng Phong, huyện Cao Lộc", "Xã Đồng Đăng", "Xã Hồng Phong (Huyện Cao Lộc)"),
    ],
)
def test_names_from_before_2025(matcher: CommuneMatcher, text: str, name: str, former: str) -> None:
    result = matcher.match(text)
    assert result.decision == "accept"
    assert result.candidates[0].name == name
    assert result.former_name == former


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("xã Cao Lộc", "Xã Cao Lộc"),  # the trap: today's xã, not the old town
        ("Cao Lộc", "Xã Cao Lộc"),
        ("Hoàng Văn Thụ", "Xã Hoàng Văn Thụ"),  # today's xã, not the city's old phường
        ("Chi Lăng", "Xã Chi Lăng"),
        ("Hồng Phong", "Xã Hồng Phong"),  # today's (Bình Gia), not Cao Lộc's old xã
    ],
)
def test_todays_name_wins(matcher: CommuneMatcher, text: str, name: str) -> None:
    result = matcher.match(text)
    assert result.decision == "accept" and result.candidates[0].name == name
    assert result.former_name is None


def test_old_name_that_became_several_units_asks(matcher: CommuneMatcher) -> None:
    result = matcher.match("Hòa Bình")  # four old xã Hòa Bình, none today
    assert result.decision == "ask"
    assert len(result.candidates) >= 3
    assert "Xã Văn Quan" in {c.name for c in result.candidates}
    assert len({c.code for c in result.candidates}) == len(result.candidates)


def test_old_names_come_from_the_library(matcher: CommuneMatcher) -> None:
    from vietnamadminunits import convert_address

    unit = convert_address("Thị trấn Cao Lộc, Huyện Cao Lộc, Tỉnh Lạng Sơn")
    assert unit.ward == matcher.match("thị trấn Cao Lộc").candidates[0].name
