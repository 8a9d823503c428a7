"""Bundles of timers: many due timers of one engine shard in one AMQP message, both ways.

Why: in a burst of due timers, most of the cost was not applying them but carrying them, one
AMQP message each: a publish (a socket write) and a confirm for the deadlines service, a queue
entry for RabbitMQ, a delivery to receive, parse and acknowledge for the engine. A bundle pays
those once for up to ``MAX_BUNDLE_TIMERS`` timers.

The deadlines service groups the timers it claims by shard, in the order claimed, and sends
each group in ``TimerBundle``s (``timers.<shard>``, to that shard's queue alone), whose body is
``{"kind":"timers","timers":[...]}`` with each timer's JSON text exactly that of its
``TimerMessage`` (``bundle_body``). So a workflow's timers stay in due order, and in order with
its commands, which go to the same queue.

The engine registers each timer as a delivery of its own (``services.bus.engine_feed``), in
the bundle's order: each is applied, refused or held behind a failure of its workflow exactly as
if it had come alone, its inbox record by its own message id (the timer id). The bundle's AMQP
message is acknowledged once every timer in it is settled (``settle_bundle``): applied, a
duplicate or refused with an event; or, if it can never be applied (refused and recorded
nowhere, or failing on every attempt), dead-lettered alone, as the single timer message it
would have been, so ``equityflow redrive`` sends it back as one. A service stopping before
then leaves the bundle unacknowledged: it comes back whole, and the timers already applied are
answered as duplicates by the inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from services.bus.auth import SENDER_HEADER
from services.bus.dead_letters import DeadLetter, unrecorded_reason
from services.bus.engine_feed import LEAVE, Delivery, Feed
from services.bus.failures import permanent_reason
from services.bus.poison import dead_letter
from services.bus.topology import ROUTING_KEY_HEADER
from services.engine.outcome import Outcome
from workflows.messages import TimerMessage, timer_routing_key

log = logging.getLogger(__name__)

#: Timers per bundle at most. Small enough that the engine does not hold too many: its prefetch
#: counts AMQP messages (192 a shard), so the timers it holds unacknowledged grow with the
#: bundles, and the deadlines service fires a timer again once its queue has had no ready
#: message for a grace (``services.deadlines.RefireHold``), whatever the engine still holds.
#: Measured with 30,000 due timers (benchmarks/timers_burst.py, load 7-9): claims of 400 in
#: bundles of up to 200 (about 100 each) had 5,967 timers fired again; bundles of about 25 had
#: none, at about the same CPU per timer. 16 keeps the engine's hand within a grace's work
#: even on a loaded machine, and still carries 16 timers for the cost of one message.
MAX_BUNDLE_TIMERS = 16
#: Bytes of the timers' bodies in a bundle at most: well under the engine's
#: ``EQUITYFLOW_MAX_MESSAGE_BYTES``, whatever their names' lengths.
MAX_BUNDLE_BYTES = 64 * 1024

_OPEN, _CLOSE = b'{"kind":"timers","timers":[', b"]}"


def bundle_body(timer_bodies: Iterable[bytes]) -> bytes:
    """A ``TimerBundle``'s JSON text around the timers' own (each a ``TimerMessage``'s)."""
    return _OPEN + b",".join(timer_bodies) + _CLOSE


def in_bundles(bodies: Sequence[bytes]) -> list[range]:
    """Consecutive runs of ``bodies`` (by index), each within the bundle limits."""
    runs: list[range] = []
    start, size = 0, 0
    for n, body in enumerate(bodies):
        if n > start and (n - start == MAX_BUNDLE_TIMERS or size + len(body) > MAX_BUNDLE_BYTES):
            runs.append(range(start, n))
            start, size = n, 0
        size += len(body) + 1
    if bodies:
        runs.append(range(start, len(bodies)))
    return runs


def _unsettled_reason(result: Any, attempts: int) -> str | None:
    """Why a timer of a bundle goes to the dead-letter queue alone; None once it is done with."""
    if isinstance(result, Outcome):
        if result.recorded:  # applied, a duplicate, or refused with its event
            return None
        return unrecorded_reason(result)  # a company that does not exist: nothing kept
    reason = permanent_reason(result)
    if reason is not None:
        return reason
    # What the engine consumer rejects for RabbitMQ to park, for a message of its own.
    return f"failed {attempts} times ({type(result).__name__}: {result})"


#: What became of a bundle once each of its timers is settled: to acknowledge ("ack"), to leave
#: unacknowledged for RabbitMQ to hand back ("left"), or dead-lettered whole by its handler.
BundleSettled = Literal["ack", "left", "dead-lettered"]


async def settle_bundle(
    message: Any, deliveries: Sequence[Delivery], feed: Feed, dead: DeadLetter
) -> BundleSettled:
    """Settle a bundle once each of its timers (``deliveries``) is settled, dead-lettering
    alone each that can never be applied: "ack" then, or "left" if the engine stops first (the
    caller acknowledges it with the others of its channel, ``services.bus.acks``).

    If a timer cannot be dead-lettered alone, the bundle is dead-lettered whole instead, naming
    the timers not yet dead-lettered (``DeadLetter.send``, which returns it to its queue if that
    fails too): every other timer in it is done with, so the ones applied are duplicates if it
    is sent back."""
    results = [await feed.result(d) for d in deliveries]
    if any(r is LEAVE for r in results):
        return "left"  # not acknowledged: RabbitMQ hands the bundle back whole
    unsettled = [
        (d.message, reason)
        for d, r in zip(deliveries, results, strict=True)
        if (reason := _unsettled_reason(r, d.attempts)) is not None
    ]
    for n, (timer, reason) in enumerate(unsettled):
        try:
            await _dead_letter_alone(dead, timer, reason)
        except Exception as error:
            log.exception("could not dead-letter timer %s alone", timer.message_id)
            left = ", ".join(t.message_id for t, _ in unsettled[n:])
            await dead.send(message, f"timers {left} of this bundle cannot be applied and could "
                            f"not be dead-lettered alone ({type(error).__name__}: {error}); "
                            "the others are done with")  # fmt: skip
            return "dead-lettered"
    return "ack"


async def _dead_letter_alone(dead: DeadLetter, timer: TimerMessage, reason: str) -> None:
    """One timer of a bundle to the dead-letter queue as the single timer message it stands for:
    its own body, message id and routing key (its shard's), and the bundle's sender."""
    log.warning("dead-lettering timer %s of bundle %s from %s: %s", timer.message_id,
                dead.raw.message_id, dead.queue_name, reason)  # fmt: skip
    routing_key = dead.topology.engine_routing_key(
        timer_routing_key(timer.workflow_type, timer.timer), timer.workflow_id
    )
    headers = {k: v for k, v in dead.raw.headers.items() if k != ROUTING_KEY_HEADER}
    await dead_letter(
        dead.publisher,
        dead.topology,
        body=timer.model_dump_json().encode(),
        routing_key=routing_key,
        message_id=timer.message_id,
        source_queue=dead.queue_name,
        reason=reason,
        headers={**headers, SENDER_HEADER: dead.sender or ""},
    )
