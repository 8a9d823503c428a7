"""Configuration from the environment (and a ``.env`` file), with sensible local defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
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
    timer_redelivery_grace: float = Field(
        default=60.0,
        gt=0,
        description="seconds a fired timer may wait to be applied before it is fired again",
    )
    checkpoint_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs checkpoints; only `equityflow "
        "checkpoint` reads it, never a service, and the database never holds it",
    )
    checkpoint_key: SecretStr | None = Field(
        default=None, description="the same private key as PEM text, instead of a file"
    )
    checkpoint_public_key_file: Path | None = Field(
        default=None, description="Ed25519 public key (PEM) with which `verify` checks checkpoints"
    )
    checkpoint_public_key: str | None = Field(
        default=None, description="the same public key as PEM text, instead of a file"
    )
    checkpoint_dir: Path | None = Field(
        default=None,
        description="folder where `checkpoint` writes each signed checkpoint as a file and "
        "`verify` reads them back (keep it off the database host, or archive it)",
    )
