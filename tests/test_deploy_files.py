"""deploy/: the compose file, the Dockerfile and the systemd units say what the code can do.

Services, start order and health checks of compose.yaml; no secret written inline; every
environment name is a setting of bot/config.py; every ``xuatngu …`` command is a sub-command
that exists (or is named as pending in deploy/README.md); ``docker compose config`` accepts the
file where Docker is installed.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.core import TyperGroup

from bot.cli import app
from bot.config import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
XUATNGU_BIN = "/opt/xuatngu/.venv/bin/xuatngu"
# sub-commands not built yet; deploy/README.md marks them ⏳ until they are
PENDING: set[str] = set()
APP_SERVICES = ("migrate", "bot", "worker", "admin")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY", re.IGNORECASE)
VARIABLE_ONLY = re.compile(r"^\$\{[A-Z_]+(:?[-?][^}]*)?\}$")
URL_PASSWORD = re.compile(r"://[^:/@]+:(?P<password>[^@]+)@")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def services() -> dict[str, Any]:
    result: dict[str, Any] = compose()["services"]
    return result


def command_exists(words: list[str]) -> bool:
    """Whether ``xuatngu WORDS…`` names a command (options after it are not checked)."""
    command = typer.main.get_command(app)
    for word in words:
        if word.startswith("-"):
            break
        if not isinstance(command, TyperGroup):
            return True
        found = command.commands.get(word)
        if found is None:
            return False
        command = found
    return not isinstance(command, TyperGroup)


def test_command_exists_tells_real_from_unknown() -> None:
    assert command_exists(["db", "upgrade"])
    assert command_exists(["admin", "serve", "--port", "1"])
    assert not command_exists(["db"])
    assert not command_exists(["no-such-command"])


def test_compose_has_every_part() -> None:
    svc = services()
    assert set(svc) >= {*APP_SERVICES, "caddy", "postgres", "redis"}
    assert svc["bot"]["deploy"]["replicas"] == 2
    # several bot processes: webhook mode behind Caddy, the background side in the worker
    # (the same layout tests/test_production_layout.py runs without containers)
    bot_env = svc["bot"]["environment"]
    assert bot_env["BACKGROUND"] == "off" and bot_env["WEBHOOK_PORT"] == "8443"
    assert bot_env["REDIS_URL"] and bot_env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"dynamic a bot 8443\s+lb_policy round_robin\s+lb_try_duration", caddy)
    assert svc["migrate"]["restart"] == "no"
    assert svc["caddy"]["volumes"][0].startswith("./Caddyfile:")
    assert (DEPLOY / "Caddyfile").is_file()
    for name in ("postgres", "redis"):
        assert any(
            volume.endswith(":/data") or "postgresql" in volume for volume in svc[name]["volumes"]
        )


def test_start_order() -> None:
    svc = services()
    for name in ("bot", "worker", "admin"):
        conditions = {dep: spec["condition"] for dep, spec in svc[name]["depends_on"].items()}
        assert conditions == {
            "migrate": "service_completed_successfully",
            "postgres": "service_healthy",
            "redis": "service_healthy",
        }, name
    assert svc["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert svc["caddy"]["depends_on"] == {
        "admin": {"condition": "service_healthy"},
        "bot": {"condition": "service_healthy"},
    }


def test_health_checks() -> None:
    svc = services()
    for name in ("postgres", "redis"):
        assert svc[name]["healthcheck"]["test"], name
    # the image checks the admin's /healthz; services without HTTP turn it off
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(
        r"^HEALTHCHECK .*\n.*http://127\.0\.0\.1:8080/healthz", dockerfile, re.MULTILINE
    )
    assert "USER xuatngu" in dockerfile and "FROM python:3.11-slim" in dockerfile
    assert "pip install -c constraints.txt ." in dockerfile
    for name in ("migrate", "worker"):
        assert svc[name]["healthcheck"] == {"disable": True}, name
    for name in ("bot", "admin"):
        assert "healthcheck" not in svc[name], name


def test_no_secret_inline() -> None:
    for name, spec in services().items():
        environment = spec.get("environment", {})
        assert isinstance(environment, dict), name
        for key, value in environment.items():
            text = str(value)
            if SECRET_NAME.search(key):
                assert VARIABLE_ONLY.match(text), f"{name}: {key} must come from deploy/.env"
            found = URL_PASSWORD.search(text)
            if found:
                assert VARIABLE_ONLY.match(found["password"]), f"{name}: password in {key}"
        if name in APP_SERVICES:
            assert spec["env_file"] == ".env"
            assert "BOT_TOKEN" not in environment and "ADMIN_SECRET_KEY" not in environment


def test_environment_names_are_settings() -> None:
    fields = set(Settings.model_fields)
    for name in APP_SERVICES:
        for key in services()[name]["environment"]:
            assert key.lower() in fields, f"{name}: {key} is no setting of bot/config.py"


def test_compose_commands_exist() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for name in APP_SERVICES:
        words = services()[name]["command"]
        assert words[0] == "xuatngu", name
        if not command_exists(words[1:]):
            assert words[1] in PENDING, f"{name}: xuatngu {' '.join(words[1:])} does not exist"
            assert f"`xuatngu {words[1]}`" in readme.split("## Tiếng Việt")[0], words
            assert "⏳" in readme


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("docker compose is not available")
    work = tmp_path / "deploy"
    work.mkdir()
    for file in ("compose.yaml", "Caddyfile", "Dockerfile"):
        shutil.copy(DEPLOY / file, work / file)
    (work / ".env").write_text("BOT_TOKEN=1:x\nPOSTGRES_PASSWORD=p\nADMIN_DOMAIN=a.example\n")
    done = subprocess.run(
        [docker, "compose", "-f", str(work / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("xuatngu-migrate.service", ["db", "upgrade"]),
        ("xuatngu-bot.service", ["run"]),
        ("xuatngu-admin.service", ["admin", "serve"]),
        ("xuatngu-backup.service", ["backup"]),
    ],
)
def test_systemd_units_run_real_commands(name: str, command: list[str]) -> None:
    service = unit(name)["Service"]
    start = service["ExecStart"].split()
    assert start == [XUATNGU_BIN, *command]
    for key in ("ExecStart", "ExecStartPre"):
        words = service.get(key, "").split()
        if words and words[0] == XUATNGU_BIN:
            assert command_exists(words[1:]), f"{name}: {service[key]}"
    assert service["User"] == "xuatngu"
    assert service["EnvironmentFile"] == "/opt/xuatngu/.env"
    assert service["UMask"] == "0077"


def test_systemd_order_and_timer() -> None:
    assert unit("xuatngu-migrate.service")["Service"]["Type"] == "oneshot"
    for name in ("xuatngu-bot.service", "xuatngu-admin.service"):
        section = unit(name)["Unit"]
        assert "xuatngu-migrate.service" in section["Requires"].split(), name
        assert "xuatngu-migrate.service" in section["After"].split(), name
    assert unit("xuatngu-backup.service")["Service"]["Type"] == "oneshot"
    timer = unit("xuatngu-backup.timer")
    assert timer["Timer"]["OnCalendar"]
    assert timer["Install"]["WantedBy"] == "timers.target"
