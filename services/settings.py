"""Configuration from the environment (and a ``.env`` file), with sensible local defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EQUITYFLOW_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "EQUITYFLOW_DATABASE_URL"),
        description="PostgreSQL URL; unset → embedded PostgreSQL in data_dir",
    )
    amqp_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AMQP_URL", "EQUITYFLOW_AMQP_URL"),
        description="RabbitMQ URL; unset → FastStream's in-memory broker (one process only)",
    )
    namespace: str = Field(
        default="equityflow", description="prefix of every exchange and queue on RabbitMQ"
    )
    data_dir: Path = Path(".equityflow")
    simulated_clock: bool = Field(
        default=False,
        description="demo/test mode: time is a row in PostgreSQL, advanced by command",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    terms_dirs: list[Path] = Field(default_factory=list, description="extra folders of terms files")
    poll_interval: float = Field(default=0.5, description="seconds between deadline/outbox polls")
    batch_size: int = 100
    ready_file: Path | None = Field(
        default=None,
        description="a service keeps this file while connected to PostgreSQL (and RabbitMQ, "
        "if it uses it): a health check for processes without HTTP",
    )
    max_message_bytes: int = Field(
        default=256 * 1024,
        gt=0,
        description="largest message body taken over AMQP or HTTP; a longer one is refused "
        "before it is parsed",
    )
    timer_redelivery_grace: float = Field(
        default=60.0,
        gt=0,
        description="seconds a fired timer may wait to be applied before it is fired again",
    )
