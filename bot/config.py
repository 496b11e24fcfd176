"""Typed settings, read once from the environment or ``.env`` and validated at start-up."""

from __future__ import annotations

import re
from functools import lru_cache
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
LANG_SON_CODE = 20  # vietnam_provinces.ProvinceCode.P_20
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts


class SettingsError(Exception):
    """A setting has a wrong value; the message is one line naming it and what is expected."""


class Settings(BaseSettings):
    """Everything the bot, the scheduler and the admin backend are configured with."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    bot_token: SecretStr | None = Field(
        default=None, description="Telegram bot token from @BotFather; empty means demo mode"
    )
    telegram_api_base: str | None = Field(
        default=None, description="root URL of a self-hosted Bot API server"
    )
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR}/xuatngu.sqlite3",
        description="SQLAlchemy async URL (sqlite+aiosqlite:///… or postgresql+asyncpg://…)",
    )
    redis_url: str | None = Field(default=None, description="redis://host:port/db")
    admin_host: str = "127.0.0.1"
    admin_port: int = Field(default=8080, ge=0, le=65535)
    timezone: str = "Asia/Ho_Chi_Minh"
    province_code: int = LANG_SON_CODE
    demo_port: int = Field(default=8081, ge=0, le=65535, description="emulator + web chat port")
    admin_secret_key: SecretStr | None = Field(
        default=None, description="key signing admin session cookies (random when unset)"
    )
    cookie_secure: bool = True
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description=(
            "addresses or networks (comma-separated, or *) of reverse proxies whose "
            "X-Forwarded-For/-Proto the admin backend believes"
        ),
    )
    environment: Literal["development", "production"] = Field(
        default="development", description="production: never start in demo mode"
    )
    background: bool = Field(
        default=True,
        description=(
            "off: xuatngu run answers people only and leaves the outbox, reminders, retention "
            "and training cards to xuatngu worker (see docs/processes.md)"
        ),
    )
    quiet_start: str = "21:00"
    quiet_end: str = "07:30"
    send_rate: float = Field(
        default=25.0,
        gt=0,
        le=1000,
        description=(
            "unprompted messages (reminders, broadcasts) per second at most; Telegram allows "
            "about 30, so keep it below that against Telegram"
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object a log line (level, logger, message)"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="when set, /metrics asks for 'Authorization: Bearer <token>'"
    )
    ready_max_lag_seconds: float = Field(
        default=900,
        gt=0,
        description="/readyz is 503 when a due outbox message or reminder waits longer than this",
    )
    counsellor_chat_id: int | None = Field(
        default=None,
        description=(
            "Telegram group of counsellors that gets a copy of every question asked with /ask; "
            "a reply to that copy in the group answers the person"
        ),
    )
    update_concurrency: int = Field(
        default=8,
        ge=1,
        le=1000,
        description=(
            "updates handled at once; a small cap keeps the handler holding the database "
            "moving instead of queueing behind hundreds of ready ones"
        ),
    )

    webhook_url: str | None = Field(
        default=None,
        description=(
            "public https URL Telegram pushes updates to (webhook mode; unset: long polling); "
            "register it once with `xuatngu telegram set-webhook`"
        ),
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="secret token Telegram sends with each update (1-256 of A-Z a-z 0-9 _ -)",
    )
    webhook_host: str = Field(default="127.0.0.1", description="address the webhook listens on")
    webhook_port: int = Field(default=8443, ge=0, le=65535, description="its port")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("expected a URL like https://bot.example.vn/telegram")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    def webhook_refusal(self) -> str | None:
        """Why webhook mode cannot start (one line saying what to set), or None."""
        if self.webhook_url and self.webhook_secret is None:
            return "WEBHOOK_URL is set but WEBHOOK_SECRET is empty: set a secret token"
        return None

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        head, sep, tail = token.partition(":")
        if not (sep and head.isdigit() and len(tail) >= 10):
            raise ValueError("expected a token like 123456:ABC… from @BotFather")
        return SecretStr(token)

    @field_validator("telegram_api_base")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s):// URL, e.g. http://127.0.0.1:8081")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value.startswith("postgres://") or value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db")
        return value

    @field_validator("counsellor_chat_id")
    @classmethod
    def _group_chat(cls, value: int | None) -> int | None:
        if value is not None and value >= 0:
            raise ValueError("expected a group's chat id, a negative number such as -1001234567890")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if items == ["*"]:
            return "*"
        try:
            if not items:
                raise ValueError(value)
            for item in items:
                if "/" in item:
                    ip_network(item)
                else:
                    ip_address(item)
        except ValueError:
            raise ValueError(
                "expected IP addresses or networks separated by commas, e.g. 127.0.0.1,10.0.0.0/8"
            ) from None
        return ",".join(items)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Asia/Ho_Chi_Minh") from None
        return value

    @field_validator("province_code")
    @classmethod
    def _province(cls, value: int) -> int:
        from vietnam_provinces import Province, ProvinceCode

        try:
            Province.from_code(ProvinceCode(value))
        except ValueError:
            raise ValueError(
                "expected a province code from vietnam-provinces (Lạng Sơn is 20)"
            ) from None
        return value

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        hh, _, mm = value.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ValueError("expected a time of day HH:MM")
        return value

    @property
    def demo_mode(self) -> bool:
        """No token: run against the built-in Bot API emulator."""
        return self.bot_token is None

    def demo_refusal(self) -> str | None:
        """Why this must not run in demo mode (one line saying what to set), or None."""
        if not self.demo_mode:
            return None
        if self.environment == "production":
            return "ENVIRONMENT=production but BOT_TOKEN is empty: set BOT_TOKEN (from @BotFather)"
        if not self.is_sqlite:
            return (
                "BOT_TOKEN is empty (demo mode) but DATABASE_URL is PostgreSQL: set BOT_TOKEN "
                "(from @BotFather), or leave DATABASE_URL unset for a demo on SQLite"
            )
        return None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Build settings; a wrong value raises :class:`SettingsError` with one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name} is wrong: {msg}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own with :func:`load_settings`)."""
    return load_settings()
