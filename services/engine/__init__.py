"""The engine: messages applied in batches, each batch one transaction, as a pipeline
(docs/design.md, "The path of a command").

    load     lock the batch's workflows (in workflow-id order), read them, their open timers,
             the timers that timer messages name, and which messages the inbox already holds
    decide   each message in arrival order: ``Kind.decide`` (pure)
    plan     pure: the transition, its events, hash, the timers to set and to cancel (the
             cancellations from the timers read at load), each payload encoded once
    write    two statements for the whole batch (``services.store.unit_write``)

Every statement is in ``services/store`` (``unit_load``, ``unit_write``, ``inbox``): none here.
Messages of one workflow in a batch chain as they would one transaction each.

A refusal (from ``decide`` or from the engine's own checks) records the message as refused,
puts a ``command_refused`` event in the outbox and changes nothing else. A workflow of another
company is "not found", and so is one that does not exist (a command that cannot start one):
the two answers are the same, so an id's existence is never revealed.

Commands and timer messages are separate key spaces of the inbox: a command can never use up
the message id of a timer. A timer message is applied only for a timer the deadlines service
has fired (``services.engine.timers.check_timer``); any other is ignored, recording nothing.
A company's registered terms govern its workflows: a start command naming other terms is
refused (``terms_mismatch``), and a command for a company nobody registered is refused
(``unregistered_company``): commands never create companies. Such a command is answered but
never recorded: no inbox, history or ``command_refused`` event is kept for a company that is
not there. The bus consumer dead-letters it with its reason, and HTTP answers 404.
"""

from services.engine.outcome import Held, Outcome
from services.engine.unit import apply, apply_batch

__all__ = ["Held", "Outcome", "apply", "apply_batch"]
