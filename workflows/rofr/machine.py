"""The ROFR state machine: every state a transfer can be in and every legal move between them.

``decide`` never sets a state by hand: each rule names a transition, and the target comes from
this machine (``workflows.kit.chart``), so a move the diagram does not allow cannot happen.
``print(f"{RofrMachine:md}")`` or ``RofrMachine()._graph()`` shows it.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.kit.chart import Chart


class RofrMachine(StateMachine):
    new = State(initial=True)
    election_window = State()  # the company (or its assignees) may elect to buy
    notice_insufficient = State()  # RD ISO ¶11(c): no transfer until the procedure is followed
    owner_choice = State()  # FMP §6(d)(v): part elected; the owner picks (A) or (B)
    valuation = State()  # FMP §6(d)(iii): exercised; the non-cash price is being valued
    closing = State()  # exercised in full: purchase to close
    escrow_settlement = State()  # RD ISO ¶12(c): paid to the escrow agent, delivery due
    owner_sale_window = State()  # FMP §6(d)(iv), RD ISO ¶11(e): owner may sell as noticed
    transfer_pending_approval = State()  # RD ISO ¶11(e): sold; company assurances and approval
    exempt_transfer_pending = State()  # FMP §6(b)(i)-(ii): consent and acknowledgment needed

    # The sale window ended with shares unsold: the right applies again to them (FMP §6(d)(iv),
    # RD ISO ¶11(e)). Not final: deadlines run from effective times, so a sale made inside the
    # window but reported after its timer fired must still be recordable, judged by its sale
    # date. The state has no timer and ends with that late report, a later notice, or a lapse.
    rofr_reattached = State()

    repurchased = State(final=True)
    sold_to_third_party = State(final=True)
    lapsed = State(final=True)
    transfer_not_permitted = State(final=True)
    exempt_transfer_completed = State(final=True)
    exempt_transfer_refused = State(final=True)

    submit_notice = (
        new.to(election_window)
        | notice_insufficient.to(election_window)
        | rofr_reattached.to(election_window)
    )
    find_insufficient = election_window.to(notice_insufficient)
    find_not_bona_fide = (
        election_window.to(transfer_not_permitted)
        | notice_insufficient.to(transfer_not_permitted)
        | transfer_pending_approval.to(transfer_not_permitted)
    )
    # An exercise is judged by its notice's effective time: one given in time but entered after
    # the election (or even the sale window) timer fired still counts while no sale is recorded.
    exercise_all = (
        election_window.to(closing)
        | owner_choice.to(closing)
        | owner_sale_window.to(closing)
        | rofr_reattached.to(closing)
    )
    exercise_all_to_value = (
        election_window.to(valuation)
        | owner_choice.to(valuation)
        | owner_sale_window.to(valuation)
        | rofr_reattached.to(valuation)
    )
    # FMP §6(d)(v): the owner's 30 days from the notice's date ended before the part exercise.
    exercise_part_choice_passed = (
        election_window.to(owner_sale_window)
        | owner_sale_window.to(owner_sale_window, internal=True)
        | rofr_reattached.to(rofr_reattached, internal=True)
    )
    exercise_part = (
        election_window.to(owner_choice)
        | owner_choice.to(owner_choice, internal=True)
        | owner_sale_window.to(owner_choice)
        | rofr_reattached.to(owner_choice)
    )
    # FMP §6(d)(v): an exercise for part that took effect before the owner's written (A) but was
    # entered after it; the (A) stands, and with it the sale window.
    exercise_part_after_choice = owner_sale_window.to(
        owner_sale_window, internal=True
    ) | rofr_reattached.to(rofr_reattached, internal=True)
    # FMP §6(d)(iii), (v)(B): after the owner's (B) the company's 30 days still run; a further
    # timely election enlarges the part it buys.
    exercise_after_b = closing.to(closing, internal=True) | valuation.to(valuation, internal=True)
    choose_third_party = owner_choice.to(owner_sale_window)
    # From the election window only where a terms file makes (B) the default on silence and the
    # owner's window had already closed when the company exercised for part.
    choose_company = (
        owner_choice.to(closing) | owner_sale_window.to(closing) | election_window.to(closing)
    )
    choose_company_to_value = (
        owner_choice.to(valuation) | owner_sale_window.to(valuation) | election_window.to(valuation)
    )
    waive = election_window.to(owner_sale_window)
    election_expired = election_window.to(owner_sale_window)
    owner_silent = owner_choice.to(owner_sale_window)
    # What records a fact without moving the transfer: each a named transition from the states
    # where it is legal (never a wildcard), so the chart says where each command may be sent.
    assign = (  # FMP §16(c), RD ISO ¶11(h): "at any time", until the right is spent
        new.to(new, internal=True)  # RD ISO ¶11(h): "whether or not the Optionee has attempted"
        | notice_insufficient.to(notice_insufficient, internal=True)
        | election_window.to(election_window, internal=True)
        | owner_choice.to(owner_choice, internal=True)
        | valuation.to(valuation, internal=True)
        | closing.to(closing, internal=True)
        | owner_sale_window.to(owner_sale_window, internal=True)
        | rofr_reattached.to(rofr_reattached, internal=True)
    )
    # An assignee's waiver: it gives up its own election, not the company's or another's.
    waive_for_assignee = election_window.to(election_window, internal=True)
    progress_valuation = (  # FMP §6(d)(iii): valuing a non-cash price, before or after exercise
        election_window.to(election_window, internal=True)
        | owner_choice.to(owner_choice, internal=True)
        | valuation.to(valuation, internal=True)
    )
    valuation_deadline_passed = (
        election_window.to(election_window, internal=True)
        | owner_choice.to(owner_choice, internal=True)
        | valuation.to(valuation, internal=True)
    )
    # The election window ends after an exercise for part: recorded, the owner's choice runs on.
    election_ended_after_part = owner_choice.to(owner_choice, internal=True) | owner_sale_window.to(
        owner_sale_window, internal=True
    )
    # FMP §6(d)(v): a written choice of (A) entered after the owner was deemed to have chosen it.
    record_late_choice = owner_sale_window.to(owner_sale_window, internal=True)
    closing_deadline_passed = closing.to(closing, internal=True)
    escrow_delivery_deadline_passed = escrow_settlement.to(escrow_settlement, internal=True)
    # RD ISO ¶11(e): assurances that the sale was carried out as the notice described.
    demand_assurances = owner_sale_window.to(
        owner_sale_window, internal=True
    ) | transfer_pending_approval.to(transfer_pending_approval, internal=True)
    provide_assurances = owner_sale_window.to(
        owner_sale_window, internal=True
    ) | transfer_pending_approval.to(transfer_pending_approval, internal=True)
    # FMP §6(b)(i)-(ii): the conditions of an exempt transfer.
    consent = exempt_transfer_pending.to(exempt_transfer_pending, internal=True)
    acknowledge = exempt_transfer_pending.to(exempt_transfer_pending, internal=True)
    value_settled = valuation.to(closing)
    close = closing.to(repurchased)
    pay_escrow_agent = closing.to(escrow_settlement)
    release = escrow_settlement.to(repurchased)
    sell = owner_sale_window.to(sold_to_third_party) | rofr_reattached.to(sold_to_third_party)
    # FMP §6(d)(iv): a sale of part of the shares; the rest stay for sale until the window ends
    # (or, reported late, stay under the right).
    sell_part = owner_sale_window.to(owner_sale_window, internal=True) | rofr_reattached.to(
        rofr_reattached, internal=True
    )
    sell_pending_approval = owner_sale_window.to(transfer_pending_approval) | rofr_reattached.to(
        transfer_pending_approval
    )
    approve = transfer_pending_approval.to(sold_to_third_party)
    sale_window_expired = owner_sale_window.to(rofr_reattached)
    lapse = (
        election_window.to(lapsed)
        | notice_insufficient.to(lapsed)
        | owner_choice.to(lapsed)
        | valuation.to(lapsed)
        | closing.to(lapsed)
        | owner_sale_window.to(lapsed)
        | rofr_reattached.to(lapsed)
        # RD ISO ¶11(i): "the other provisions of this paragraph 11 notwithstanding"
        | transfer_pending_approval.to(lapsed)
    )
    propose_exempt = new.to(exempt_transfer_pending)
    complete_exempt = exempt_transfer_pending.to(exempt_transfer_completed)
    refuse_exempt = exempt_transfer_pending.to(exempt_transfer_refused)


# Each state as a stock administrator would say it, for refusals ("while the transfer is ...").
STATE_WORDS = {
    "new": "not yet noticed",
    "election_window": "open for the company's election",
    "notice_insufficient": "on hold: the notice was found insufficient",
    "owner_choice": "waiting for the owner's choice after a part exercise",
    "valuation": "waiting for the cash value of the non-cash price",
    "closing": "waiting for the company's purchase to close",
    "escrow_settlement": "with the escrow agent for settlement",
    "owner_sale_window": "in the owner's window to sell to the third party",
    "transfer_pending_approval": "sold and waiting for the company's approval",
    "exempt_transfer_pending": "an exempt transfer waiting for its conditions",
    "rofr_reattached": "back under the right (the sale window closed with shares unsold)",
    "repurchased": "bought by the company",
    "sold_to_third_party": "sold to the third party",
    "lapsed": "free of the right (it lapsed)",
    "transfer_not_permitted": "not permitted",
    "exempt_transfer_completed": "completed as an exempt transfer",
    "exempt_transfer_refused": "refused as an exempt transfer",
}


CHART = Chart(RofrMachine, STATE_WORDS, subject="the transfer")
TRANSITIONS = CHART.transitions  # (source state, transition) → target: built once
STATES = CHART.states
describe = CHART.describe
target = CHART.target
