"""The share register on the kit: its command table, chart and parties; ``decide`` is the
kit's. The register reads no facts of other workflows: it is the one they read."""

from __future__ import annotations

from workflows.kit.clauses import enforces
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.dispatch import Kind
from workflows.kit.parties import authorise
from workflows.shares import commands as c
from workflows.shares import issuance, lost, transfer
from workflows.shares.context import Ctx, Step
from workflows.shares.data import SCHEMA
from workflows.shares.machine import CHART

enforces("share_register.parties")(authorise)

COMMANDS: CommandTable[Ctx, Step] = CommandTable(
    "share_register",
    {
        "open_share_register": Spec(c.OpenShareRegister, issuance.open_share_register),
        "issue_share_certificate": Spec(c.IssueShareCertificate, issuance.issue_share_certificate),
        "record_share_transfer": Spec(c.RecordShareTransfer, transfer.record_share_transfer),
        "cancel_share_certificate": Spec(
            c.CancelShareCertificate, transfer.cancel_share_certificate
        ),
        "change_holder_address": Spec(c.ChangeHolderAddress, issuance.change_holder_address),
        "claim_lost_certificate": Spec(c.ClaimLostCertificate, lost.claim_lost_certificate),
        "require_replacement_terms": Spec(
            c.RequireReplacementTerms, lost.require_replacement_terms
        ),
        "replace_lost_certificate": Spec(c.ReplaceLostCertificate, lost.replace_lost_certificate),
    },
)
KIND: Kind[Ctx] = Kind(
    context=Ctx,
    commands=COMMANDS,
    chart=CHART,
    timer_rules=(),
    parties=lambda ctx: ctx.reg.parties,
    data=SCHEMA,
)
decide = KIND.decide
