"""`xuatngu content check` and start-up refuse broken content, naming file, line and reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content_check import html_problems

ROOT = Path(__file__).resolve().parent.parent


def _check(content_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XUATNGU_CONTENT_DIR": str(content_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_shipped_content_is_valid() -> None:
    proc = _check(ROOT / "content")
    assert proc.returncode == 0, proc.stderr
    assert "Content OK." in proc.stdout


def test_broken_content_is_named_by_file_and_line(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    survey = content / "survey.yaml"
    lines = survey.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "- id: branch")
    lines[at] = "  - id: full_name"  # a duplicate question id
    survey.write_text("\n".join(lines) + "\n", encoding="utf-8")
    trades = content / "trades.yaml"
    trades.write_text(trades.read_text(encoding="utf-8") + "\n  - code: [unclosed\n")
    proc = _check(content)
    assert proc.returncode == 1
    assert f"{survey}:{at + 1}:" in proc.stderr and "full_name" in proc.stderr
    assert f"{trades}:" in proc.stderr and "YAML syntax" in proc.stderr


def test_start_up_refuses_broken_content(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "quiz.yaml").write_text("intro: {vi: x}\n", encoding="utf-8")
    env = {
        **os.environ,
        "XUATNGU_CONTENT_DIR": str(content),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
    }
    env.pop("BOT_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Content is broken" in proc.stderr and "quiz.yaml" in proc.stderr


@pytest.mark.parametrize(
    ("text", "tags", "expected"),
    [
        ("<b>Lương</b> &amp; <i>phụ cấp</i>\n1 &lt; 2", None, []),
        ("dòng 1\n<b>chưa đóng", None, [(2, "unclosed <b>")]),
        ("<b>sai</i></b>", None, [(1, "closing </i> does not match")]),
        ("a\nb & c", None, [(2, "a bare '&' must be written &amp;")]),
        ("a\n1 < 2", None, [(2, "a bare '<' must be written &lt;")]),
        ("<u>gạch</u>", None, []),
        ("<u>gạch</u>", frozenset({"b", "i"}), [(1, "tag <u> is not allowed here")]),
    ],
)
def test_one_html_check_for_every_content_text(
    text: str, tags: frozenset[str] | None, expected: list[tuple[int, str]]
) -> None:
    """Telegram HTML in content: tags (all of Telegram's, or fewer), nesting, & and <."""
    found = html_problems(text) if tags is None else html_problems(text, tags)
    assert found == expected
