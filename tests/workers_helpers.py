"""``xuatngu worker`` as child processes of a test: started, watched through their logs and
killed by pid (every one of them on the way out)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import TEST_TOKEN
from tests.test_crash_updates import XUATNGU


@dataclass
class Worker:
    """One ``xuatngu worker`` process and its log."""

    proc: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def holds(self, job: str) -> bool:
        """Whether its log says it runs ``job`` (it took the job's lock)."""
        return f"{job}: lock held" in self.log()

    async def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert await self.proc.wait() == -signal.SIGKILL


@asynccontextmanager
async def workers(
    count: int, database_url: str, api_base: str, logs: Path, **env: str
) -> AsyncIterator[list[Worker]]:
    """``count`` workers on this database, running; each killed by pid on the way out."""
    environ = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE": api_base,
        "DATABASE_URL": database_url,
        **env,
    }
    started: list[Worker] = []
    try:
        for i in range(count):
            path = logs / f"worker{i}.log"
            with path.open("ab") as log:
                proc = await asyncio.create_subprocess_exec(
                    str(XUATNGU), "worker", env=environ, stdout=log, stderr=log
                )
            started.append(Worker(proc, path))
        for worker in started:
            for _ in range(1200):
                if (
                    "xuatngu worker is running" in worker.log()
                    or worker.proc.returncode is not None
                ):
                    break
                await asyncio.sleep(0.05)
            assert "xuatngu worker is running" in worker.log(), worker.log()[-3000:]
        yield started
    finally:
        for worker in started:
            if worker.proc.returncode is None:
                os.kill(worker.proc.pid, signal.SIGKILL)
                await worker.proc.wait()
