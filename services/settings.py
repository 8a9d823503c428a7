"""Configuration from the environment (and a ``.env`` file), with sensible local defaults.

A value that does not parse is reported by ``settings_error`` in one line that names the
environment variable, what was wrong with it and the form expected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    http_port: int = Field(default=8000, ge=1, le=65535)
    # NoDecode: a plain path is what a shell user writes; the validator below also takes JSON.
    terms_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="extra folders of terms files"
    )
    poll_interval: float = Field(default=0.5, description="seconds between deadline/outbox polls")
    batch_size: int = Field(
        default=100,
        gt=0,
        description="due timers the deadlines service claims and publishes per pass, their "
        "confirms awaited together",
    )
    relay_batch: int = Field(
        default=1000,  # services.relay.DEFAULT_BATCH_SIZE
        gt=0,
        le=10_000,
        description="outbox events the relay claims and publishes per pass, their confirms "
        "awaited together (a workflow's events one wave after another)",
    )
    engine_batch: int = Field(
        default=128,  # services.bus.consumers.DEFAULT_ENGINE_BATCH
        ge=1,
        le=1000,
        description="messages the engine applies in one transaction (measured: docs/design.md)",
    )
    engine_batches_in_flight: int = Field(
        default=2,  # services.bus.consumers.ENGINE_BATCHES_IN_FLIGHT
        ge=1,
        le=8,
        description="batches an engine process applies at once (of different workflows): 2 "
        "lets a lone engine plan one batch while the database writes another; with as many "
        "engine processes as cores, 1 is faster (they keep the cores busy between them)",
    )
    engine_shards: int = Field(
        default=4,  # services.bus.topology.DEFAULT_ENGINE_SHARDS
        ge=1,
        le=256,
        description="shard queues of the engine: a workflow's messages go to one, applied by "
        "one engine process at a time; at least as many as engine processes (the same in every "
        "process; drain the engine queues before changing it)",
    )
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

    @field_validator("terms_dirs", mode="before")
    @classmethod
    def _folders(cls, value: object) -> object:
        """A folder, several separated by ``os.pathsep`` (as in ``PATH``), or a JSON list."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)  # a JSONDecodeError is a ValueError: reported as invalid
        return [folder for folder in text.split(os.pathsep) if folder.strip()]


# What each variable must look like, for the one-line error that names it.
_EXPECTED = {
    "database_url": "a PostgreSQL URL, e.g. postgresql://user:pass@host:5432/equityflow",
    "amqp_url": "an AMQP URL, e.g. amqp://user:pass@host:5672/",
    "namespace": "a name, e.g. equityflow",
    "data_dir": "a folder, e.g. .equityflow",
    "simulated_clock": "true or false",
    "http_host": "a host name or address, e.g. 127.0.0.1",
    "http_port": "a port number from 1 to 65535, e.g. 8000",
    "terms_dirs": f"a folder, several separated by {os.pathsep!r}, or a JSON list of folders",
    "poll_interval": "a number of seconds, e.g. 0.5",
    "batch_size": "a whole number greater than 0, e.g. 100",
    "relay_batch": "a whole number from 1 to 10000, e.g. 1000",
    "engine_batch": "a whole number from 1 to 1000, e.g. 128",
    "engine_batches_in_flight": "a whole number from 1 to 8, e.g. 2",
    "engine_shards": "a whole number from 1 to 256, e.g. 4",
    "timer_redelivery_grace": "a number of seconds greater than 0, e.g. 60",
}
_UNPREFIXED = {"database_url": "DATABASE_URL", "amqp_url": "AMQP_URL"}


def variable(field: str) -> str:
    """The environment variable that sets ``field``."""
    return _UNPREFIXED.get(field, f"EQUITYFLOW_{field.upper()}")


def settings_error(error: Exception) -> str:
    """One line: which variable is wrong, what is wrong with it, and what is expected."""
    if not isinstance(error, ValidationError):  # e.g. a .env file that cannot be read
        return f"invalid settings: {error}"
    problems = []
    for e in error.errors(include_url=False):
        field = str(e["loc"][0]) if e["loc"] else ""
        shown = e.get("input")
        value = f"={shown!r}" if isinstance(shown, str) else ""
        reason = e["msg"].removeprefix("Value error, ")
        expected = _EXPECTED.get(field)
        problems.append(
            f"{variable(field)}{value} is not valid ({reason})"
            + (f"; expected {expected}" if expected else "")
        )
    return "; ".join(problems)
