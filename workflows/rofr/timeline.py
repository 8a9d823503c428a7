"""When each ROFR act took effect, and how acts at the same instant are ordered.

Every deadline of the right runs from effective times (FMP §16(b), RD ISO ¶11(d)-(e)), so each
act is judged by when it took effect: a notice by the notice rules, an act with a date by that
date (a sale by ``sold_at``, a lapse by ``occurred_at``), the rest when entered. At one instant
the notice comes first, then what the company does on it, the owner's choice before a further
exercise (the choice wins a tie), an exercise before a sale
(the owner may sell only if the company did not exercise, FMP §6(d)(iv), RD ISO ¶11(e)) and
before a lapse event (``lapse``: a purchase exercised by the event proceeds); the steps of a
valuation, a closing or an exempt transfer in the order each builds on the one before.
"""

from __future__ import annotations

from workflows.kit.clauses import enforces
from workflows.kit.effective import EffectiveTime, by_date, by_notice, by_optional_date
from workflows.terms import Terms
from workflows.terms.rofr import RofrTerms

EFFECTIVE: dict[str, EffectiveTime] = {
    "deliver_transfer_notice": by_notice("transfer_notice"),
    "reject_transfer_notice": by_notice("non_compliance_notice"),
    "assign_rofr": by_optional_date("assigned_at"),
    "exercise_rofr": by_notice("exercise_notice"),
    "waive_rofr": by_notice("waiver_notice"),
    "choose_sale_alternative": by_notice("owner_choice_notice"),
    "agree_cash_value": by_date("agreed_at"),
    "appoint_joint_appraiser": by_date("appointed_at"),
    "select_owner_appraiser": by_date("selected_at"),
    "select_company_appraiser": by_date("selected_at"),
    "record_third_appraiser": by_date("designated_at"),
    "appoint_appraisers": by_date("appointed_at"),
    "record_valuation": by_date("valued_at"),
    "complete_closing": by_date("closed_at"),
    "release_escrow": by_date("delivered_at"),
    "report_third_party_sale": by_date("sold_at"),
    "record_lapse_event": by_date("occurred_at"),
    "consent_to_transfer": by_date("consented_at"),
    "acknowledge_transfer_terms": by_date("acknowledged_at"),
    "complete_exempt_transfer": by_date("transferred_at"),
}

RANKS: dict[str, int] = {
    "deliver_transfer_notice": 0,
    "propose_exempt_transfer": 0,
    "assign_rofr": 10,
    "reject_transfer_notice": 20,
    "choose_sale_alternative": 25,
    "exercise_rofr": 30,
    "waive_rofr": 40,
    # the steps of a valuation, a closing and an exempt transfer, in the order they build on
    "agree_cash_value": 50,
    "appoint_joint_appraiser": 51,
    "select_owner_appraiser": 52,
    "select_company_appraiser": 52,
    "appoint_appraisers": 52,  # retired: its recorded acts replay in their place
    "record_third_appraiser": 53,
    "record_valuation": 54,
    "complete_closing": 60,
    "release_escrow": 61,
    "consent_to_transfer": 70,
    "acknowledge_transfer_terms": 71,
    "refuse_consent": 72,
    "complete_exempt_transfer": 73,
    "report_third_party_sale": 200,
    "demand_assurances": 201,
    "provide_assurances": 202,
    "approve_transfer": 210,
    "record_lapse_event": 300,
}

#: The acts that transfer the shares: contradicted by a timely act, they are void.
TRANSFERS = ("report_third_party_sale", "approve_transfer")


@enforces("rofr.void_transfer")
def void_clause(terms: Terms, command: str) -> str | None:
    """FMP §6(i): a transfer not in full compliance with §6 is null and void ab initio; RD ISO
    ¶11(f): a sale or transfer is void unless ¶11 is met. Other acts cite the rule that
    refuses them in their place."""
    rofr = terms.section("rofr")
    if command not in TRANSFERS or not isinstance(rofr, RofrTerms):
        return None
    return rofr.void_transfer.clause if rofr.void_transfer else rofr.clause
