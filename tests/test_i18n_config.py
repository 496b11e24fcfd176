"""Catalogs are complete; settings refuse wrong values with one readable line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.config import SettingsError, load_settings
from bot.i18n import ADMIN_DOMAIN, LOCALES_DIR, pick_language, translator

ROOT = Path(__file__).resolve().parent.parent


def test_every_message_has_an_english_translation() -> None:
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert missing == []
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert template <= {m.id for m in catalog if m.id}, "run pybabel update (see README)"


def test_handlers_have_no_inline_user_text() -> None:
    """Strings a person reads come from gettext or content/, never inline in handlers."""
    import ast

    for path in (ROOT / "handlers").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            method = getattr(node.func, "attr", "") if isinstance(node, ast.Call) else ""
            if method in ("answer", "edit_text"):
                for arg in node.args:
                    assert not isinstance(arg, ast.Constant), f"{path.name}:{node.lineno}"


@pytest.mark.parametrize(
    ("code", "lang"), [("vi", "vi"), ("en", "en"), ("en-GB", "en"), ("ru", "vi"), (None, "vi")]
)
def test_pick_language(code: str | None, lang: str) -> None:
    assert pick_language(code) == lang


def test_one_stack_translates_bot_and_admin_texts() -> None:
    """The bot's and the admin's catalogs come from one place; unknown languages mean vi."""
    assert translator("en")("Đã chuyển sang tiếng Việt.") == "Switched to English."
    assert translator("vi")("Đã chuyển sang tiếng Việt.") == "Đã chuyển sang tiếng Việt."
    assert translator("vi", ADMIN_DOMAIN)("Dashboard") == "Tổng quan"
    assert translator("fr", ADMIN_DOMAIN)("asked on %(day)s", day="01/12") == "yêu cầu ngày 01/12"
    assert translator("en", ADMIN_DOMAIN)("asked on %(day)s", day="01/12") == "asked on 01/12"
    assert translator("en", ADMIN_DOMAIN)("not in any catalog") == "not in any catalog"


@pytest.mark.parametrize(
    ("setting", "value", "needle"),
    [
        ("database_url", "mysql://x", "DATABASE_URL"),
        ("bot_token", "not-a-token", "BOT_TOKEN"),
        ("timezone", "Mars/Olympus", "TIMEZONE"),
        ("province_code", 999, "PROVINCE_CODE"),
        ("admin_port", 70000, "ADMIN_PORT"),
        ("telegram_api_base", "ftp://x", "TELEGRAM_API_BASE"),
    ],
)
def test_wrong_setting_names_itself(setting: str, value: object, needle: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(**{setting: value})
    assert str(err.value).startswith(f"setting {needle} is wrong: ")
    assert "\n" not in str(err.value)


def test_cli_stops_on_a_wrong_setting(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "mysql://nope", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("setting DATABASE_URL is wrong")


def test_settings_read_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("ADMIN_PORT=9191\nTIMEZONE=Asia/Bangkok\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.admin_port == 9191 and settings.timezone == "Asia/Bangkok"
    assert settings.demo_mode
