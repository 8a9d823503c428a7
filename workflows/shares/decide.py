"""The share register on the kit: its command table, chart and parties; ``decide`` is the
kit's. The register reads no facts of other workflows: it is the one they read."""

from __future__ import annotations

from collections.abc import Callable

from workflows.kit.clauses import enforces
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.dispatch import Kind
from workflows.kit.parties import authorise
from workflows.kit.payload import Payload
from workflows.shares import commands as c
from workflows.shares import issuance, links, lost, transfer
from workflows.shares.context import Ctx, Step
from workflows.shares.data import SCHEMA
from workflows.shares.machine import CHART
from workflows.terms.share_register import ShareRegisterTerms


def _with(rule: Callable[[Ctx], Step]) -> Callable[[Ctx, Payload], Step]:
    """The kit hands each rule its command's model; the register's rules read it from the
    context (``Ctx.typed``), after their check that the register is open."""

    def run(ctx: Ctx, cmd: Payload) -> Step:
        ctx.given = cmd
        return rule(ctx)

    return run


enforces("share_register.parties")(authorise)

COMMANDS: CommandTable[Ctx, Step] = CommandTable(
    "share_register",
    {
        "open_share_register": Spec(c.OpenShareRegister, _with(issuance.open_share_register)),
        "issue_share_certificate": Spec(
            c.IssueShareCertificate, _with(issuance.issue_share_certificate)
        ),
        "record_share_transfer": Spec(c.RecordShareTransfer, _with(transfer.record_share_transfer)),
        "cancel_share_certificate": Spec(
            c.CancelShareCertificate, _with(transfer.cancel_share_certificate)
        ),
        "change_holder_address": Spec(c.ChangeHolderAddress, _with(issuance.change_holder_address)),
        "claim_lost_certificate": Spec(c.ClaimLostCertificate, _with(lost.claim_lost_certificate)),
        "require_replacement_terms": Spec(
            c.RequireReplacementTerms, _with(lost.require_replacement_terms)
        ),
        "replace_lost_certificate": Spec(
            c.ReplaceLostCertificate, _with(lost.replace_lost_certificate)
        ),
        # Sent by other workflows through the engine (workflows.shares.links).
        "record_exercise_issuance": Spec(
            c.RecordExerciseIssuance, _with(links.record_exercise_issuance)
        ),
        "record_rofr_transfer": Spec(c.RecordRofrTransfer, _with(links.record_rofr_transfer)),
        "record_rofr_repurchase": Spec(c.RecordRofrRepurchase, _with(links.record_rofr_repurchase)),
        "void_rofr_transfer": Spec(c.VoidRofrTransfer, _with(links.void_rofr_transfer)),
    },
)
INTERNAL = frozenset(
    {
        "record_exercise_issuance",
        "record_rofr_transfer",
        "record_rofr_repurchase",
        "void_rofr_transfer",
    }
)
KIND: Kind[Ctx] = Kind(
    context=Ctx,
    commands=COMMANDS,
    chart=CHART,
    timer_rules=(),
    parties=lambda ctx: ctx.reg.parties,
    data=SCHEMA,
    terms_section=ShareRegisterTerms,
    internal=INTERNAL,
)
decide = KIND.decide
