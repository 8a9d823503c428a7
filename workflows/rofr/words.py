"""The ROFR's states, events and parties in a stock administrator's words.

One sentence per state (where a transfer stands) and per event (what just happened), for every
reader that is not a program: the demo's timeline, a dashboard, a notice. ``{notice}`` in an
event's sentence is the agreement's own name for the owner's notice (FMP §6(d)(ii): "Disposition
Notice"; RD ISO ¶11(b): "Transfer Notice"), filled in by :func:`event_sentence`.
"""

from __future__ import annotations

from workflows.terms import Terms

PARTIES = {
    "owner": "the owner",
    "company": "the Company",
    "board": "the Board",
    "assignee": "the Company's assignee",
    "escrow_agent": "the escrow agent",
    "transferee": "the transferee",
    "system": "equityflow",
}

STATE_SENTENCES = {
    "new": "No notice of a proposed transfer has been given yet.",
    "election_window": "The Company may elect to buy the shares on the notice's terms.",
    "notice_insufficient": "The notice was found insufficient: no transfer until a complete one "
    "is given.",
    "owner_choice": "The Company elected part of the shares: the owner is to choose between the "
    "agreement's alternatives.",
    "valuation": "The Company exercised its right; the cash value of the non-cash price is being "
    "fixed before the closing.",
    "closing": "The Company exercised its right: its purchase of the shares is to close.",
    "escrow_settlement": "The purchase price is with the escrow agent, who is to deliver the "
    "escrowed shares.",
    "owner_sale_window": "The owner may sell to the third party on the notice's terms.",
    "transfer_pending_approval": "The sale was made; it awaits the Company's assurances and "
    "approval before it is recorded.",
    "exempt_transfer_pending": "An exempt transfer waits for the conditions the agreement sets.",
    "rofr_reattached": "The sale window closed with shares unsold: the Right of First Refusal "
    "applies to them again, and the owner must give a new notice before selling them.",
    "repurchased": "The Company bought the shares.",
    "sold_to_third_party": "The shares were sold to the third party, and the transfer is "
    "recorded on the Company's books.",
    "lapsed": "The Right of First Refusal lapsed: the shares are free of it.",
    "transfer_not_permitted": "The transfer is not permitted.",
    "exempt_transfer_completed": "The exempt transfer was completed.",
    "exempt_transfer_refused": "The exempt transfer was refused.",
}

EVENT_SENTENCES = {
    "transfer_notice_received": "The Company received the {notice} of a proposed transfer.",
    "election_window_opened": "The Company's election window opened: it may buy the shares on "
    "the notice's terms.",
    "transfer_notice_found_insufficient": "The {notice} was found insufficient.",
    "transfer_found_not_bona_fide": "The proposed transfer was found not to be bona fide.",
    "rofr_assigned": "The Company assigned its Right of First Refusal.",
    "rofr_exercised": "The Right of First Refusal was exercised.",
    "owner_choice_window_opened": "The Company elected only part of the shares: the owner's "
    "time to choose between the agreement's alternatives began.",
    "sale_alternative_chosen": "The owner's choice between the alternatives was recorded.",
    "rofr_waived": "The Right of First Refusal was waived.",
    "rofr_waived_by_assignee": "An assignee waived its own election; the Company and any other "
    "assignee keep theirs.",
    "election_window_expired": "The Company's election window closed.",
    "sale_window_opened": "The owner's sale window opened: the owner may sell to the third "
    "party on the notice's terms.",
    "cash_value_proposed": "One side proposed a cash value for the non-cash price; it is "
    "agreed once the other side consents to the same value.",
    "cash_value_agreed": "The cash value of the non-cash price was agreed.",
    "cash_value_agreement_deadline_passed": "No cash value was agreed in time: a joint "
    "appraiser is to value the price.",
    "joint_appraiser_proposed": "One side proposed a joint appraiser; the appraiser is selected "
    "once the other side consents to the same one.",
    "joint_appraiser_appointed": "A joint appraiser was appointed to value the non-cash price.",
    "joint_appraiser_deadline_passed": "No joint appraiser was appointed in time: each side "
    "selects its own appraiser, and the two appraisers designate a third.",
    "appraiser_selected": "One side selected its own appraiser; the two appraisers are to "
    "designate a third.",
    "third_appraiser_designated": "The two sides' appraisers designated a third appraiser, "
    "whose appraisal determines the value.",
    "appraisers_appointed": "The appraisers were appointed.",
    "cash_value_determined": "The cash value of the non-cash price was determined by the "
    "appraisal that binds.",
    "closing_awaits_valuation": "The purchase closes once the non-cash price has a cash value.",
    "closing_scheduled": "The Company's purchase is to close.",
    "closing_deadline_passed": "The closing deadline passed without a closing.",
    "repurchase_closed": "The Company's purchase closed.",
    "purchase_price_paid_to_escrow_agent": "The purchase price was paid to the escrow agent.",
    "escrow_delivery_deadline_passed": "The escrow agent's delivery deadline passed.",
    "escrowed_shares_delivered": "The escrow agent delivered the escrowed shares.",
    "third_party_sale_reported": "The owner reported the sale to the third party.",
    "transfer_assurances_demanded": "The Company asked for assurances that the transfer took "
    "place as described.",
    "transfer_assurances_provided": "The assurances were given.",
    "transfer_approved": "The Company approved the transfer.",
    "transfer_recorded": "The transfer was recorded on the Company's books.",
    "sale_window_expired": "The owner's sale window closed.",
    "rofr_reattached": "The Right of First Refusal applies again to the unsold shares.",
    "rofr_lapsed": "The Right of First Refusal lapsed.",
    "exempt_transfer_proposed": "The owner proposed a transfer exempt from the Right of First "
    "Refusal.",
    "transfer_consented": "The Company consented to the exempt transfer.",
    "transfer_consent_refused": "The Company refused its consent to the exempt transfer.",
    "transfer_terms_acknowledged": "The transferee acknowledged the terms the shares stay "
    "subject to.",
    "exempt_transfer_completed": "The exempt transfer was completed.",
    "fact_voided": "A fact recorded earlier is void: an act that took effect before it, "
    "entered later, contradicts it.",
    "reconciliation_raised": "A reconciliation item was raised: the Company's records must not "
    "show the void fact as valid.",
    "reconciliation_closed": "The Company marked the reconciliation item reconciled.",
    # Added by the engine to every decision that sets, cancels or passes a timer.
    "deadline_set": "A deadline was set.",
    "deadline_cancelled": "A deadline no longer applies.",
    "deadline_passed": "A deadline passed, in its place before what was recorded after it.",
}


def state_sentence(state: str) -> str:
    return STATE_SENTENCES.get(state, f"The transfer is at {state.replace('_', ' ')}.")


def event_sentence(event_type: str, terms: Terms) -> str:
    """What the event means, with the agreement's own name for the owner's notice."""
    template = EVENT_SENTENCES.get(event_type)
    if template is None:
        return f"{event_type.replace('_', ' ').capitalize()}."
    # A terms document without a ROFR section starts no ROFR workflow; name the notice plainly.
    rofr = terms.rofr
    return template.format(notice=rofr.notice_name.value if rofr else "transfer notice")


def party_name(party: str) -> str:
    return PARTIES.get(party, party.replace("_", " "))
