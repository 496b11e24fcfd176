"""``xuatngu telegram set-webhook`` / ``status`` / ``delete-webhook`` against the emulator: what
Telegram ends up holding, and what the operator is told."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.conftest import TEST_TOKEN, free_port
from tests.emulator_helpers import running_emulator

XUATNGU = Path(sys.executable).parent / "xuatngu"
HOOK = "https://bot.example.vn/telegram/hook"


async def xuatngu(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    """Run the command line; its exit code and what it printed (stdout and stderr)."""
    proc = await asyncio.create_subprocess_exec(
        str(XUATNGU),
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_set_webhook_status_and_delete_webhook(tmp_path: Path) -> None:
    async with running_emulator() as (emulator, client):
        env = {
            **os.environ,
            "BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE": emulator.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3",
            "WEBHOOK_URL": HOOK,
            "WEBHOOK_SECRET": "cli-Secret_1",
        }
        code, out = await xuatngu(env, tmp_path, "telegram", "set-webhook")
        assert code == 0 and f"Webhook set: {HOOK}" in out, out
        hook = next(iter(emulator.core.bots.values())).settings["webhook"]
        assert hook["url"] == HOOK and hook["secret_token"] == "cli-Secret_1"

        await client.user(4001).send("chào")  # pushed to a URL nobody answers: it waits
        code, out = await xuatngu(env, tmp_path, "telegram", "status")
        assert code == 0 and f"Webhook: {HOOK}" in out and "Pending updates: 1" in out, out

        code, out = await xuatngu(env, tmp_path, "telegram", "delete-webhook")
        assert code == 0 and "Webhook deleted" in out, out
        code, out = await xuatngu(env, tmp_path, "telegram", "status")
        assert "Webhook: (none: long polling)" in out, out


async def test_set_webhook_refuses_without_a_secret(tmp_path: Path) -> None:
    async with running_emulator() as (emulator, _client):
        env = {
            **os.environ,
            "BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE": emulator.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3",
        }
        env.pop("WEBHOOK_SECRET", None)
        url = f"http://127.0.0.1:{free_port()}/hook"
        code, out = await xuatngu(env, tmp_path, "telegram", "set-webhook", "--url", url)
        assert code == 2 and "WEBHOOK_SECRET is empty" in out, out
        assert emulator.core.call_counts["setWebhook"] == 0
