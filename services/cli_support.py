"""What every ``equityflow`` command shares: settings read once with a one-line error, and
operator mistakes answered in one line with exit code 2. Kept apart from ``services.cli`` so the
sub-command modules use it without importing the application that imports them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NoReturn

import asyncpg
import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from services.audit import CheckpointKeyError
from services.settings import Settings, settings_error
from workflows.terms import TermsError


def refuse(message: str) -> NoReturn:
    """An operator's mistake: one line on stderr, exit code 2."""
    typer.echo(f"equityflow: {message}", err=True)
    raise typer.Exit(2)


@contextlib.contextmanager
def operator_errors() -> Iterator[None]:
    """An unreachable database, an unmigrated schema or a bad terms file: one line, exit 2.

    Exit 2 keeps such failures apart from the answers the commands exist to give (``verify``
    exits 1 for a broken chain), so a monitor can tell "tampered" from "misconfigured".
    """
    try:
        yield
    except (
        OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TermsError, CheckpointKeyError
    ) as e:  # fmt: skip
        refuse(f"{type(e).__name__}: {e}")


def settings_or_exit(**overrides: object) -> Settings:
    """The settings from the environment (and .env); a value that does not parse: exit 2."""
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as e:
        refuse(settings_error(e))
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
