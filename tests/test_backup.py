"""``xuatngu backup`` / ``xuatngu restore`` on SQLite and PostgreSQL: a wiped database comes
back with every person and answer; missing tools, bad paths and a populated target are refused
with one clear line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Answer, Person, SurveyResponse
from tests.conftest import PG_ADMIN_URL, fresh_pg_database
from tests.factories import make_person

PEOPLE = [
    ("Nguyễn Văn Ánh", {"q_age": 22, "q_goal": "học nghề"}),
    ("Hoàng Thị Lan", {"q_age": 23, "q_goal": "đi làm", "q_note": "Cao Lộc"}),
    ("Lý Văn Đức", {"q_age": 21}),
]
Snapshot = tuple[set[tuple[int, str | None]], set[tuple[int, str, str]]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/live.sqlite3"
        return
    async with fresh_pg_database() as url:
        yield url


async def populate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_async(engine)
        async with create_sessionmaker(engine)() as session:
            for name, answers in PEOPLE:
                await make_person(session, full_name=name, answers=answers)
            await session.commit()
    finally:
        await engine.dispose()


async def snapshot(url: str) -> Snapshot:
    """Every person (Telegram id, name) and answer (Telegram id, question, value)."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            people = set(
                (await session.execute(select(Person.telegram_user_id, Person.full_name))).all()
            )
            rows = await session.execute(
                select(Person.telegram_user_id, Answer.question_id, Answer.value)
                .join(SurveyResponse, SurveyResponse.person_id == Person.id)
                .join(Answer, Answer.response_id == SurveyResponse.id)
            )
            answers = {(tg, question, str(value)) for tg, question, value in rows}
    finally:
        await engine.dispose()
    return people, answers


def delete_sqlite(url: str) -> None:
    path = url.split(":///", 1)[1]
    for extra in ("", "-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


async def wipe(url: str) -> None:
    """Delete the SQLite file, or drop and re-create the PostgreSQL database."""
    if url.startswith("sqlite"):
        await asyncio.to_thread(delete_sqlite, url)
        return
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def cli(url: str, *args: str, path: str | None = None) -> Result:
    """Run ``xuatngu ARGS`` with DATABASE_URL (and PATH) set, in a thread."""
    env = {"DATABASE_URL": url, **({"PATH": path} if path is not None else {})}
    from bot.config import get_settings

    get_settings.cache_clear()
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def test_backup_wipe_restore_finds_everyone(db_url: str, tmp_path: Path) -> None:
    await populate(db_url)
    before = await snapshot(db_url)
    assert len(before[0]) == len(PEOPLE)
    assert len(before[1]) == sum(len(answers) for _, answers in PEOPLE)
    file = tmp_path / "saved.backup"

    made = await cli(db_url, "backup", str(file))
    assert made.exit_code == 0, made.output
    assert file.stat().st_size > 0
    assert file.stat().st_mode & 0o077 == 0

    await wipe(db_url)
    restored = await cli(db_url, "restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert f"{len(before[0])} people, {len(before[1])} answers" in restored.output
    assert await snapshot(db_url) == before


async def test_restore_over_people_needs_force(db_url: str, tmp_path: Path) -> None:
    await populate(db_url)
    file = tmp_path / "saved.backup"
    assert (await cli(db_url, "backup", str(file))).exit_code == 0
    # one more person after the backup: --force brings the database back to the backup
    engine = create_engine(db_url)
    async with create_sessionmaker(engine)() as session:
        await make_person(session, full_name="Người Mới", answers={"q_age": 30})
        await session.commit()
    await engine.dispose()
    with_new = await snapshot(db_url)

    refused = await cli(db_url, "restore", str(file))
    assert refused.exit_code == 1
    assert f"already holds {len(PEOPLE) + 1} people" in refused.output
    assert "--force" in refused.output
    assert await snapshot(db_url) == with_new

    forced = await cli(db_url, "restore", str(file), "--force")
    assert forced.exit_code == 0, forced.output
    people, _ = await snapshot(db_url)
    assert {name for _, name in people} == {name for name, _ in PEOPLE}


async def test_bad_paths_are_clear(db_url: str, tmp_path: Path) -> None:
    await populate(db_url)
    no_folder = await cli(db_url, "backup", str(tmp_path / "missing" / "x.backup"))
    assert no_folder.exit_code == 2
    assert "Cannot write" in no_folder.output

    # a failed backup leaves no file behind that could be mistaken for one
    unreachable = db_url.rsplit("/", 1)[0] + "/no_such_database_here"
    if db_url.startswith("sqlite"):
        unreachable = f"sqlite+aiosqlite:///{tmp_path}/no_such.sqlite3"
    failed = await cli(unreachable, "backup", str(tmp_path / "failed.backup"))
    assert failed.exit_code != 0
    assert len(failed.output.strip().splitlines()) == 1, failed.output
    assert not (tmp_path / "failed.backup").exists()

    missing = await cli(db_url, "restore", str(tmp_path / "nope.backup"))
    assert missing.exit_code == 2
    assert "Cannot read" in missing.output and "no such file" in missing.output

    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a backup\n" * 200)
    bad = await cli(db_url, "restore", str(junk), "--force")
    assert bad.exit_code != 0
    assert len(bad.output.strip().splitlines()) == 1
    assert str(junk) in bad.output or "pg_restore failed" in bad.output
    people, _ = await snapshot(db_url)
    assert len(people) == len(PEOPLE)


@pytest.mark.parametrize("command", ["backup", "restore"])
async def test_missing_pg_tool_is_one_line(command: str, tmp_path: Path) -> None:
    url = "postgresql+asyncpg://xuatngu:s3cret-pw@127.0.0.1:1/xuatngu"
    file = tmp_path / "x.dump"
    file.write_bytes(b"PGDMP")
    result = await cli(url, command, str(file), path=str(tmp_path))
    assert result.exit_code == 2
    tool = "pg_dump" if command == "backup" else "pg_restore"
    assert result.output.strip() == (
        f"{tool} not found: install the PostgreSQL client tools of the server's version "
        "(apt install postgresql-client)."
    )
    assert "s3cret-pw" not in result.output
