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
