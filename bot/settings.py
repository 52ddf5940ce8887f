"""Operator settings (SPEC §3), read from the environment or `.env` by pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from providers.registry import PROVIDERS, Provider

_PG_SCHEMES = frozenset({"postgresql", "postgres"})


class Settings(BaseSettings):
    """Built once in `__main__`, never at import time; secrets stay SecretStr."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    discord_token: SecretStr | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    dev_guild_id: int | None = None
    owner_ids: Annotated[frozenset[int], NoDecode] = frozenset()

    # One key and one base URL per provider, as the provider table names them.
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    xai_api_key: SecretStr | None = None
    xai_base_url: str = "https://api.x.ai/v1"
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None

    # Unset: the scene-writing provider's default (providers/registry.py TEXT_MODELS).
    text_model: str | None = None
    models_file: Path | None = None
    data_dir: Path = Path("./data")
    tiers_file: Path | None = None
    default_tier: str = "free"
    video_poll_seconds: float = Field(default=5, gt=0)
    video_timeout_seconds: float = Field(default=300, gt=0)
    # SIGTERM: how long scenes in flight may take to finish before they end in "restarted".
    shutdown_grace_seconds: float = Field(default=25, ge=0)
    log_level: str = "INFO"
    # PostgreSQL instead of SQLite under DATA_DIR (SPEC §11); secret, as it may hold a password.
    database_url: SecretStr | None = None
    # Discord shards (SPEC §11): how many in all, and which this process runs (None: all).
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    web_port: int | None = Field(default=None, ge=0, le=65535)
    web_base_url: str | None = None
    web_secret: SecretStr | None = None

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("web_base_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(sorted({int(part) for part in value.replace(" ", "").split(",") if part}))
        if isinstance(value, int):
            return (value,)
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT")
            if any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
                raise ValueError("SHARD_IDS must be between 0 and SHARD_COUNT - 1")
        return self

    def syncs_commands(self) -> bool:
        """Only the process that runs shard 0 syncs the command tree (one sync, not N)."""
        return self.shard_ids is None or 0 in self.shard_ids

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in _PG_SCHEMES:
            raise ValueError("must be a postgresql://user:password@host:port/database URL")
        return value

    def database(self) -> str | None:
        """The PostgreSQL URL, or None for SQLite at DATA_DIR/storybot.db."""
        return self.database_url.get_secret_value() if self.database_url else None

    def api_key(self, provider: Provider) -> SecretStr | None:
        key = getattr(self, PROVIDERS[provider].key_variable.lower())
        return key if isinstance(key, SecretStr) else None

    def base_url(self, provider: Provider) -> str | None:
        """The provider's base URL; None: its SDK's own."""
        url = getattr(self, PROVIDERS[provider].base_url_variable.lower())
        return url if isinstance(url, str) else None

    def keyed_providers(self) -> frozenset[Provider]:
        """Providers whose key is set: the one definition of "has a key". A model of any other
        provider is never offered."""
        return frozenset(
            p for p in PROVIDERS if (key := self.api_key(p)) and key.get_secret_value()
        )

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so logging can scrub them."""
        values = (self.discord_token, *map(self.api_key, PROVIDERS), self.web_secret)
        found = tuple(v.get_secret_value() for v in values if v and v.get_secret_value())
        password = urlsplit(self.database() or "").password
        return (*found, password) if password else found
