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
    service_users: list[str] = Field(
        default_factory=list,
        description="RabbitMQ users of other equityflow services, trusted like the user of "
        "AMQP_URL (which always is): set it when services log in as different users",
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
    timer_redelivery_grace: float = Field(
        default=60.0,
        gt=0,
        description="seconds a fired timer may wait to be applied before it is fired again",
    )
