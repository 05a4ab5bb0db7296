"""One typed settings object, read from the environment and `.env`.

The defaults are the embedded mode: a SQLite file under `instance/`, the local chat channel,
Asia/Tokyo. LINE and Slack switch on only when both of their credentials are set.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'instance' / 'renkei.db'}"


LOOPBACK = ("127.0.0.1", "localhost", "::1")


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Asia/Tokyo"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"

    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_endpoint: str = "https://api.line.me"

    slack_signing_secret: str = ""
    slack_bot_token: str = ""
    # slack_sdk joins method names with urljoin, so the trailing slash matters.
    slack_api_url: str = "https://slack.com/api/"
    # The one workspace served; empty: the one the bot token belongs to (auth.test).
    slack_team_id: str = ""

    public_base_url: str = "http://127.0.0.1:8000"
    # Signs the web's session cookies. Unset: generated once and kept in instance/secret_key.
    secret_key: str = ""

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql://")
        # Plain postgres URLs should use psycopg 3, the driver we ship.
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("line_api_endpoint", "public_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not a known IANA time zone") from exc
        return value

    @model_validator(mode="after")
    def _https_for_line(self) -> Settings:
        # LINE fetches digest charts from PUBLIC_BASE_URL and only over HTTPS; a plain http
        # address would fail silently on every digest. Loopback http (the default) stays allowed:
        # LINE cannot reach it anyway, so it only ever serves a local run against a stub API.
        url = urlsplit(self.public_base_url)
        if self.line_enabled and url.scheme != "https" and url.hostname not in LOOPBACK:
            raise ValueError(
                "PUBLIC_BASE_URL must be an https:// address while LINE is on "
                f"(it is {self.public_base_url})"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def https(self) -> bool:
        return self.public_base_url.startswith("https://")

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret and self.slack_bot_token)


SECRET_KEY_FILE = PROJECT_ROOT / "instance" / "secret_key"


def secret_key_of(settings: Settings, path: Path = SECRET_KEY_FILE) -> str:
    """SECRET_KEY, or the key kept under instance/ (made on first use, readable by us only), so
    an embedded install signs people in without any setup and keeps them across restarts."""
    if settings.secret_key:
        return settings.secret_key
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(key)
    except FileExistsError:  # another worker made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    return key


def load_settings(**overrides: object) -> Settings:
    """Read the settings; turn a validation failure into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule across settings: its message names them
            raise SettingsError(first["msg"].removeprefix("Value error, ")) from None
        name = str(first["loc"][0]).upper()
        raise SettingsError(f"{name}: {first['msg']}") from None
