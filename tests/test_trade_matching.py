"""Trade catalog loading and the free-text trade matcher."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli.matching import communes_app, trades_app
from bot.content_loading import ContentError
from bot.matching.catalog import load_trades
from bot.matching.spelling import canon_tokens
from bot.matching.trades import TradeMatcher
from bot.textnorm import fold, is_syllable, tokens

DATA = Path(__file__).parent / "data" / "trade_inputs.csv"
TRADES_MD_CODES = {
    "drive_b", "drive_c1", "drive_cd", "moto_repair", "auto_repair", "weld", "steel_structure",
    "machining", "fitter", "elec_ind", "elec_home", "hvac", "electronics", "solar", "plumbing",
    "heavy_equip", "crane", "equip_repair", "building", "carpentry", "pc_repair", "phone_repair",
    "office_it", "network", "graphic_design", "cooking", "bartender", "hospitality", "tour_guide",
    "sewing", "hair", "beauty", "logistics", "sales", "accounting", "chinese", "korean",
    "japanese", "livestock", "crops", "forestry", "aquaculture", "agri_machine", "security",
    "firefighting",
}  # fmt: skip


@pytest.fixture(scope="module")
def matcher() -> TradeMatcher:
    return TradeMatcher(load_trades())


# ------------------------------------------------------------------ folding


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Hoà Bình", "hoa binh"),
        ("Hòa Bình", "hoa binh"),
        ("thuý", "thuy"),
        ("Đường  Lê-Lợi!!", "duong le loi"),
        ("  ?? ", ""),
        ("Điều hoà, tủ lạnh", "dieu hoa tu lanh"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_nfd_input_equals_nfc() -> None:
    import unicodedata

    text = "Tiếng Hàn Quốc"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "tieng han quoc"
    assert tokens("Thợ hàn, hàn xì") == ["tho", "han", "han", "xi"]


def test_is_syllable() -> None:
    assert is_syllable("nghieng") and is_syllable("bay")
    assert not is_syllable("hanf") and not is_syllable("suaxemay")


def test_canon_tokens_unify_spellings() -> None:
    assert canon_tokens("lái xe ô tô") == canon_tokens("lai oto") == ["lai", "oto"]
    assert canon_tokens("vệ sỹ") == canon_tokens("ve si")


# ------------------------------------------------------------------ catalog


def test_catalog_covers_every_trade_of_the_brief() -> None:
    catalog = load_trades()
    assert TRADES_MD_CODES <= set(catalog.codes())
    assert len(set(catalog.codes())) == len(catalog)
    weld, korean = catalog.get("weld"), catalog.get("korean")
    assert weld is not None and korean is not None and weld.name.vi == "Hàn"
    assert all(1 <= len(t.riasec) <= 3 for t in catalog)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trades.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_TRADE = """\
  - code: weld
    name: {vi: "Hàn", en: "Welding"}
    group: mechanics
    riasec: RC
    synonyms: [hàn]
"""


def test_duplicate_code_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "trades:\n" + GOOD_TRADE + GOOD_TRADE)
    with pytest.raises(ContentError) as err:
        load_trades(path)
    assert f"{path}:7:" in str(err.value) and "duplicate" in str(err.value)


def test_bad_riasec_error_names_the_line(tmp_path: Path) -> None:
    broken = GOOD_TRADE.replace("riasec: RC", "riasec: RXQ")
    path = _write(tmp_path, "trades:\n" + GOOD_TRADE.replace("weld", "cook") + broken)
    with pytest.raises(ContentError) as err:
        load_trades(path)
    assert f"{path}:10:" in str(err.value) and "riasec" in str(err.value)


def test_empty_name_and_unknown_group_are_rejected(tmp_path: Path) -> None:
    broken = GOOD_TRADE.replace('vi: "Hàn"', 'vi: ""').replace("mechanics", "magic")
    path = _write(tmp_path, "trades:\n" + broken)
    with pytest.raises(ContentError) as err:
        load_trades(path)
    message = str(err.value)
    assert "name.vi" in message and "group" in message and f"{path}:3:" in message


# ------------------------------------------------------------------ matcher


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hàn", "weld"),
        ("han", "weld"),
        ("tho han", "weld"),
        ("hàn điện", "weld"),
        ("hàn xì", "weld"),
        ("tiếng hàn", "korean"),
        ("tieng han", "korean"),
        ("han quoc", "korean"),
        ("xkld han quoc", "korean"),
        ("EPS", "korean"),
        ("b2", "drive_b"),
        ("Bằng B2", "drive_b"),
        ("lái xe tải", "drive_c1"),
        ("lái container", "drive_cd"),
        ("sua xe may", "moto_repair"),
        ("suaxemay", "moto_repair"),
        ("heo", "livestock"),
        ("nuôi lợn", "livestock"),
        ("bảo vệ thực vật", "crops"),
        ("bảo vệ", "security"),
        ("dien lang", "hvac"),
        ("hanf", "weld"),
        ("welding", "weld"),
        ("car mechanic", "auto_repair"),
        ("em muốn học hàn ở Hà Nội", "weld"),
    ],
)
def test_accepts(matcher: TradeMatcher, text: str, code: str) -> None:
    result = matcher.match(text)
    assert result.decision == "accept", (text, result)
    assert result.best is not None and result.best.code == code


@pytest.mark.parametrize(
    "text",
    [
        "chưa biết",
        "ko biet",
        "chua biet",
        "không biết",
        "I don't know",
        "idk",
        "?",
        "em chưa biết học gì",
    ],
)
def test_unknown(matcher: TradeMatcher, text: str) -> None:
    assert matcher.match(text).decision == "unknown"


@pytest.mark.parametrize("text", ["xyzzy", "abc", "", "   ", "lái máy bay", "123"])
def test_none(matcher: TradeMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.decision == "none" and result.candidates == []


def test_ambiguous_asks_with_both(matcher: TradeMatcher) -> None:
    result = matcher.match("điện nước")
    assert result.decision == "ask"
    assert {c.code for c in result.candidates} == {"elec_home", "plumbing"}
    assert matcher.match("xklđ").decision == "ask"


def test_short_words_do_not_match_inside_others(matcher: TradeMatcher) -> None:
    # "may" (sewing) is inside "xe máy", "máy tính"; "c" is a licence only on its own.
    assert matcher.match("sửa máy tính").best.code == "pc_repair"  # type: ignore[union-attr]
    assert matcher.match("lái máy xúc").best.code == "heavy_equip"  # type: ignore[union-attr]
    assert matcher.match("em là người Lạng Sơn").decision == "none"


def test_negation_drops_the_trade(matcher: TradeMatcher) -> None:
    assert matcher.match("không thích hàn").decision == "none"


def test_candidates_respect_limit_and_carry_names(matcher: TradeMatcher) -> None:
    result = matcher.match("điện", limit=1)
    assert len(result.candidates) == 1
    best = result.candidates[0]
    assert best.name_vi and best.name_en and 0 < best.score <= 100


def test_match_is_fast(matcher: TradeMatcher) -> None:
    texts = ["sua xe may", "em muốn học tiếng hàn để đi xklđ", "dien lang", "xyzzy"] * 50
    start = time.perf_counter()
    for text in texts:
        matcher.match(text)
    assert (time.perf_counter() - start) / len(texts) < 0.002


def test_labelled_set_meets_the_bars(matcher: TradeMatcher) -> None:
    with DATA.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 230
    catalog_codes = set(load_trades().codes())
    assert {r["expected_code"] for r in rows if r["expected_code"]} <= catalog_codes
    ok = asks = 0
    for row in rows:
        result = matcher.match(row["text"])
        asks += result.decision == "ask"
        if not row["expected_code"]:
            ok += result.decision in ("none", "unknown")
        else:
            best = result.best
            ok += (
                result.decision in ("accept", "ask")
                and best is not None
                and (best.code == row["expected_code"])
            )
    assert ok / len(rows) >= 0.95
    assert asks / len(rows) <= 0.10


# ------------------------------------------------------------------ CLI


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(trades_app, name="trades")
    root.add_typer(communes_app, name="communes")
    return root


def test_cli_trades_table(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["trades", "match", "sua xe may"])
    assert result.exit_code == 0
    assert "decision: accept" in result.output and "moto_repair" in result.output


def test_cli_trades_json(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["trades", "match", "điện nước", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["decision"] == "ask"
    assert [c["code"] for c in payload["candidates"]][:2] == ["elec_home", "plumbing"]
