#!/usr/bin/env python3
"""One-command set-up and run, with nothing but Python 3.11+ installed.

    python3 tasks.py run     # set up .venv if needed, start the product (demo without BOT_TOKEN)
    python3 tasks.py test    # set up .venv if needed, then run the whole test suite
    python3 tasks.py lint    # ruff check, ruff format --check, mypy, import-linter contracts
    python3 tasks.py lock    # refresh constraints.txt from .venv (after changing dependencies)

Dependencies are pinned in constraints.txt; the install re-runs only when pyproject.toml or
constraints.txt changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".xuatngu-installed"


def _digest() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_env() -> None:
    """Create .venv and install the project with its pinned dependencies when out of date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must also run on an older python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not PY.exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _digest():
        return
    print("Installing dependencies into .venv (pinned by constraints.txt) …", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-c", "constraints.txt", "-e", ".[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(_digest())


def run(*args: str) -> int:
    """Become ``xuatngu run`` (exec, not a child): a SIGTERM to this pid stops the product."""
    os.chdir(ROOT)
    os.execv(BIN / "xuatngu", [str(BIN / "xuatngu"), "run", *args])


# the whole suite on four pytest-xdist workers, a test file per worker (its fixtures stay
# together): most tests wait on a bot, an emulator or a database, so four share two cores well
# (measured: 13 min 40 s serially, 5 min 41 s so, 634 tests)
PARALLEL = ("-n", "4", "--dist", "loadfile")


def test(*args: str) -> int:
    """The whole suite in parallel, or pytest with the arguments given (serially)."""
    return subprocess.call([str(PY), "-m", "pytest", *(args or PARALLEL)], cwd=ROOT)


def lint(*_: str) -> int:
    checks = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy"), "bot", "handlers", "storage", "admin", "emulator"],
        [str(BIN / "lint-imports")],
    ]
    return max(subprocess.call(c, cwd=ROOT) for c in checks)


def lock(*_: str) -> int:
    frozen = subprocess.run(
        [str(PY), "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in frozen.splitlines() if line and not line.startswith("-e ")]
    (ROOT / "constraints.txt").write_text(
        "# Pinned versions for reproducible installs; refresh with: python3 tasks.py lock\n"
        + "\n".join(sorted(lines, key=str.lower))
        + "\n"
    )
    return 0


COMMANDS = {"run": run, "test": test, "lint": lint, "lock": lock}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    ensure_env()
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
