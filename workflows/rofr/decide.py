"""The ROFR on the kit: its command table, chart, timer rules and parties; ``decide`` is the
kit's (the ``WorkflowKind`` contract of the kernel)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workflows.kernel import Decision, Message
from workflows.kit.clauses import enforces
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.dispatch import Kind
from workflows.kit.parties import authorise
from workflows.kit.reconcile import ReconcileItem, not_an_act
from workflows.rofr import (
    appraisers,
    approval,
    closing,
    election,
    exempt,
    lapse,
    notice,
    owner_choice,
    recording,
    sale,
    timeline,
    valuation,
)
from workflows.rofr import commands as c
from workflows.rofr.context import Ctx, Step
from workflows.rofr.data import SCHEMA
from workflows.rofr.machine import CHART
from workflows.terms import Terms
from workflows.terms.rofr import RofrTerms

# Who may send each command: the kit authorises it from the section's parties; the grant of
# the right is cited by the kit's decide where no narrower clause applies.
enforces("rofr.parties")(authorise)
enforces("rofr")(Kind.decide)

RECONCILE = "reconcile_rofr"

COMMANDS: CommandTable[Ctx, Step] = CommandTable(
    "rofr",
    {
        "deliver_transfer_notice": Spec(c.DeliverTransferNotice, notice.deliver_transfer_notice),
        "reject_transfer_notice": Spec(c.RejectTransferNotice, notice.reject_transfer_notice),
        "assign_rofr": Spec(c.AssignRofr, election.assign_rofr),
        "exercise_rofr": Spec(c.ExerciseRofr, election.exercise_rofr),
        "waive_rofr": Spec(c.WaiveRofr, election.waive_rofr),
        "choose_sale_alternative": Spec(
            c.ChooseSaleAlternative, owner_choice.choose_sale_alternative
        ),
        "agree_cash_value": Spec(c.AgreeCashValue, valuation.agree_cash_value),
        "appoint_joint_appraiser": Spec(c.AppointJointAppraiser, valuation.appoint_joint_appraiser),
        "select_owner_appraiser": Spec(c.SelectAppraiser, appraisers.select_owner_appraiser),
        "select_company_appraiser": Spec(c.SelectAppraiser, appraisers.select_company_appraiser),
        "record_third_appraiser": Spec(c.RecordThirdAppraiser, appraisers.record_third_appraiser),
        # Retired (FMP §6(d)(iii): each side selects its own): refused when entered; an act of
        # it recorded before replays as it stood.
        "appoint_appraisers": Spec(
            c.AppointAppraisers,
            appraisers.appoint_appraisers,
            admit=appraisers.refuse_appoint_appraisers,
        ),
        "record_valuation": Spec(c.RecordValuation, valuation.record_valuation),
        "complete_closing": Spec(c.CompleteClosing, closing.complete_closing),
        "release_escrow": Spec(c.ReleaseEscrow, closing.release_escrow),
        "report_third_party_sale": Spec(c.ReportThirdPartySale, sale.report_third_party_sale),
        "demand_assurances": Spec(c.DemandAssurances, approval.demand_assurances),
        "provide_assurances": Spec(c.ProvideAssurances, approval.provide_assurances),
        "approve_transfer": Spec(c.ApproveTransfer, approval.approve_transfer),
        "record_lapse_event": Spec(c.RecordLapseEvent, lapse.record_lapse_event),
        "propose_exempt_transfer": Spec(c.ProposeExemptTransfer, exempt.propose_exempt_transfer),
        "consent_to_transfer": Spec(c.ConsentToTransfer, exempt.consent_to_transfer),
        "refuse_consent": Spec(c.RefuseConsent, exempt.refuse_consent),
        "acknowledge_transfer_terms": Spec(
            c.AcknowledgeTransferTerms, exempt.acknowledge_transfer_terms
        ),
        "complete_exempt_transfer": Spec(c.CompleteExemptTransfer, exempt.complete_exempt_transfer),
        # Bookkeeping the kit does itself (workflows.kit.reconcile): never a rule of the chart.
        RECONCILE: Spec(ReconcileItem, not_an_act),
    },
    aliases={"deliver_disposition_notice": "deliver_transfer_notice"},  # FMP §6(d)(ii)'s name
)
KIND: Kind[Ctx] = Kind(
    context=Ctx,
    commands=COMMANDS,
    chart=CHART,
    timer_rules=(
        election.on_timer,
        owner_choice.on_timer,
        valuation.on_timer,
        closing.on_timer,
        sale.on_timer,
    ),
    parties=appraisers.parties,
    data=SCHEMA,
    terms_section=RofrTerms,
    effective=timeline.EFFECTIVE,
    ranks=timeline.RANKS,
    void_clause=timeline.void_clause,
    reconcile_command=RECONCILE,
)


def decide(
    state: str | None,
    data: Mapping[str, Any],
    message: Message,
    now: datetime,
    terms: Terms | Mapping[str, Any],
) -> Decision:
    """The kit's decide; an act it voids that had recorded in the share register is held
    void there too (``workflows.rofr.recording``)."""
    return recording.with_voids(data, KIND.decide(state, data, message, now, terms))
