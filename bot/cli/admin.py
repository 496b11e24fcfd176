"""``xuatngu admin …``: admin accounts, API tokens and the admin web server on its own."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.common import settings_or_exit
from bot.config import Settings
from storage.models.admin import ROLES

if TYPE_CHECKING:
    from bot.people import Conversations

admin_app = typer.Typer(
    help="Admin backend: accounts, API tokens, web server.", no_args_is_help=True
)
T = TypeVar("T")
ROLE_HELP = " | ".join(ROLES)


def _with_db(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` with a session on a migrated database."""
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade

    upgrade(settings.database_url)

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        typer.echo("No terminal to ask for a password: pass --password-stdin.", err=True)
        raise typer.Exit(2)
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@admin_app.command("create-user")
def create_user_cmd(
    username: str = typer.Argument(..., help="login name (lower case letters, digits, . _ -)"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    commune: list[str] = typer.Option([], "--commune", help="commune code (repeat)"),
    trade: list[str] = typer.Option([], "--trade", help="trade code taught (repeat)"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from stdin"
    ),
    institution: str | None = typer.Option(
        None, "--institution", help="institution role: the institution's name in the catalog"
    ),
) -> None:
    """Create an admin account (asks for the password when run in a terminal)."""
    from admin.accounts import AccountError, create_user
    from storage.audit import audit

    settings = settings_or_exit()
    password = _read_password(password_stdin)

    async def work(session: AsyncSession) -> str:
        user = await create_user(session, username, password, role, commune, trade)
        if institution:
            user.institution_id = await _institution_id(session, institution)
        detail = {
            "username": user.username,
            "role": role,
            "communes": user.communes,
            "trades": user.trades,
            "institution_id": user.institution_id,
        }
        await audit(session, actor="cli", action="account.created", detail=detail)
        return user.username

    try:
        name = _with_db(settings, work)
    except AccountError as exc:
        typer.echo(f"Cannot create the account: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Account {name} ({role}) created.")


async def _institution_id(session: AsyncSession, name: str) -> int:
    """The id of the catalog's institution of this name (AccountError when there is none)."""
    from admin.accounts import AccountError
    from storage.models.catalog import Institution

    found = await session.scalar(select(Institution.id).where(Institution.name == name.strip()))
    if found is None:
        raise AccountError(f"no institution named {name!r} in the catalog (import it first)")
    return found


@admin_app.command("create-token")
def create_token_cmd(
    name: str = typer.Argument(..., help="API client name"),
    role: str = typer.Option(..., "--role", help=ROLE_HELP),
    commune: list[str] = typer.Option([], "--commune", help="commune code (repeat)"),
    trade: list[str] = typer.Option([], "--trade", help="trade code (repeat)"),
    days: int | None = typer.Option(
        None, "--days", help="days the token works (default 90, at most 365)"
    ),
) -> None:
    """Create an API client and print its bearer token once (it expires after --days)."""
    from admin.accounts import TOKEN_DAYS_DEFAULT, AccountError, create_api_client
    from storage.audit import audit

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> tuple[str, str]:
        lifetime = TOKEN_DAYS_DEFAULT if days is None else days
        client, token = await create_api_client(
            session, name, role, commune, trade, "cli", days=lifetime
        )
        expires = client.expires_at.astimezone(settings.tz).strftime("%d/%m/%Y %H:%M")
        detail = {
            "client": client.name,
            "role": role,
            "communes": client.communes,
            "expires_at": client.expires_at.isoformat(),
        }
        await audit(session, actor="cli", action="api_client.created", detail=detail)
        return token, expires

    try:
        token, expires = _with_db(settings, work)
    except AccountError as exc:
        typer.echo(f"Cannot create the API client: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(token)
    typer.echo(f"The token works until {expires} ({settings.timezone}).", err=True)


@admin_app.command("unlock")
def unlock_cmd(
    username: str = typer.Argument(..., help="the account whose failed logins to forget"),
) -> None:
    """Let an account log in again at once from every address (forgets its failed logins)."""
    from admin.auth import unlock
    from storage.audit import audit
    from storage.models.admin import AdminUser

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> int | None:
        name = username.strip().lower()
        if await session.scalar(select(AdminUser.id).where(AdminUser.username == name)) is None:
            return None
        count = await unlock(session, name)
        detail = {"username": name, "addresses": count}
        await audit(session, actor="cli", action="account.unlock", detail=detail)
        return count

    count = _with_db(settings, work)
    if count is None:
        typer.echo(f"No account named {username}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{username} can log in again (failed logins forgotten from {count} address(es)).")


@admin_app.command("list-users")
def list_users_cmd() -> None:
    """List admin accounts."""
    from storage.models.admin import AdminUser

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> list[AdminUser]:
        return list((await session.scalars(select(AdminUser).order_by(AdminUser.username))).all())

    for u in _with_db(settings, work):
        scope = ",".join([*u.communes, *u.trades])
        state = "active" if u.active else "deactivated"
        typer.echo(f"{u.username}\t{u.role}\t{state}\t{scope}")


def _conversations(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> Conversations | None:
    """The bot's conversations (its FSM storage), so that an officer's erasure clears the
    person's one too; None without a bot token (no bot, no conversations)."""
    if settings.bot_token is None:
        return None
    from aiogram.utils.token import extract_bot_id

    from bot import people
    from bot.app import create_fsm

    storage, _ = create_fsm(settings, sessionmaker)
    return people.Conversations(storage, extract_bot_id(settings.bot_token.get_secret_value()))


@admin_app.command("serve")
def serve_cmd(
    host: str | None = typer.Option(None, help="default: ADMIN_HOST"),
    port: int | None = typer.Option(None, help="default: ADMIN_PORT"),
) -> None:
    """Serve the admin web app alone with uvicorn (migrates the database first); behind a
    reverse proxy it believes X-Forwarded-For/-Proto from TRUSTED_PROXIES, as `xuatngu run`."""
    import uvicorn

    from admin.app import create_app, server_config
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    app = create_app(settings, sessionmaker, conversations=_conversations(settings, sessionmaker))
    config = server_config(
        app, settings, host=host, port=port, log_level=settings.log_level.lower()
    )
    uvicorn.Server(config).run()
