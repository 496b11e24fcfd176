"""LOG_FORMAT=json: every log line of ``xuatngu`` is one JSON object with level, logger and
message; the default stays text."""

from __future__ import annotations

import json
import logging

import pytest

from bot.config import load_settings
from bot.logs import configure_logging


@pytest.fixture
def root_restored():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines(root_restored: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings(log_format="json"))
    logging.getLogger("bot.delivery").warning("paused %s s after a 429", 3)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("handlers.errors").exception("update %d failed", 7)
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("WARNING", "bot.delivery", "paused 3 s after a 429"),
        ("ERROR", "handlers.errors", "update 7 failed"),
    ]
    assert "ValueError: boom" in entries[1]["exception"]


def test_text_by_default(root_restored: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings())
    logging.getLogger("bot.delivery").warning("plain")
    line = capsys.readouterr().err.strip()
    assert line.endswith("WARNING bot.delivery: plain")
