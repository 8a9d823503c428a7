"""Which failures of a handler are the message's fault (dead-letter it now, with why) and which
are the world's (retry it with back-off).

A message that fails because of what it holds fails the same way on every delivery: retrying it
only holds a delivery slot, floods the log and reaches the dead-letter queue through the queue's
delivery limit with no reason recorded. So besides ``PoisonMessage`` (refused when parsed):

- PostgreSQL's data exceptions (SQLSTATE class 22: a NUL in text or jsonb, a character with no
  equivalent, a number out of range, an invalid text representation) and program limits (class
  54: a value too large for an index row), and asyncpg's refusal to encode a query argument;
- a string Python cannot encode as UTF-8 (a lone surrogate).

Everything else — the connection was lost, PostgreSQL is restarting, a deadlock, a serialization
failure, RabbitMQ cannot route a publish — is transient: the message is retried.
"""

from __future__ import annotations

import asyncpg

from services.bus.poison import PoisonMessage

PERMANENT_DATABASE_ERRORS = (asyncpg.DataError, asyncpg.ProgramLimitExceededError)


def permanent_reason(error: BaseException) -> str | None:
    """Why the message can never be handled, or None if retrying it may succeed."""
    if isinstance(error, PoisonMessage):
        return str(error)
    if isinstance(error, PERMANENT_DATABASE_ERRORS):
        code = getattr(error, "sqlstate", None)
        where = f"SQLSTATE {code}, " if code else ""
        return f"the database cannot store this message ({where}{type(error).__name__}): {error}"
    if isinstance(error, UnicodeError):
        return f"the message holds text that is not valid Unicode: {error}"
    return None


def too_large(body: bytes, max_bytes: int) -> PoisonMessage | None:
    """A body over the limit, refused before it is parsed."""
    if len(body) <= max_bytes:
        return None
    return PoisonMessage(
        f"the body is {len(body)} bytes, over the limit of {max_bytes} "
        "(EQUITYFLOW_MAX_MESSAGE_BYTES); send a smaller message"
    )
