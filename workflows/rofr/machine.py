"""The ROFR state machine: every state a transfer can be in and every legal move between them.

``decide`` never sets a state by hand: each rule records what happened and names an event; the
chart takes the first of that event's transitions from the current state whose guards hold
(``cond``/``unless``: functions next to the rules, each citing its clause) and runs the entry
effects of the state it leads to (``enter``: opening a window, scheduling a closing). So a move
the diagram does not allow cannot happen, and ``CHART.mermaid()`` draws the whole rule.
"""

from __future__ import annotations

from typing import cast

from statemachine import State, StateMachine
from statemachine.transition_list import TransitionList

from workflows.kit.chart import Chart
from workflows.rofr.alternative_a import a_stands
from workflows.rofr.approval import needs_approval
from workflows.rofr.closing import schedule_closing, start_escrow_delivery, through_escrow
from workflows.rofr.election import company_buys
from workflows.rofr.notice import found_insufficient, open_election
from workflows.rofr.owner_choice import b_chosen, open_owner_choice
from workflows.rofr.sale import open_sale_window, unsold_remain
from workflows.rofr.valued import await_valuation, awaits_valuation, is_valued


def _purchase(source: State, closing: State, valuation: State, *guards: object) -> TransitionList:
    """The company buys: to closing, or first to valuation while a non-cash price the company
    pays in cash has no value yet (FMP §6(d)(iii))."""
    to_close = source.to(closing, cond=list(guards), unless=awaits_valuation)
    return cast(TransitionList, to_close | source.to(valuation, cond=[*guards, awaits_valuation]))


class RofrMachine(StateMachine):
    new = State(initial=True)
    # the company (or its assignees) may elect to buy
    election_window = State(enter=open_election)
    notice_insufficient = State()  # RD ISO ¶11(c): no transfer until the procedure is followed
    # FMP §6(d)(v): part elected; the owner picks (A) or (B)
    owner_choice = State(enter=open_owner_choice)
    # FMP §6(d)(iii): exercised; the non-cash price is being valued
    valuation = State(enter=await_valuation)
    closing = State(enter=schedule_closing)  # exercised: purchase to close
    # RD ISO ¶12(c): paid to the escrow agent, delivery due
    escrow_settlement = State(enter=start_escrow_delivery)
    # FMP §6(d)(iv), RD ISO ¶11(e): owner may sell as noticed
    owner_sale_window = State(enter=open_sale_window)
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
    # RD ISO ¶11(c): insufficient (the procedure to be followed again) or not bona fide (no
    # transfer); once a sale is reported, only not bona fide (RD ISO ¶11(e)).
    reject_notice = (
        election_window.to(notice_insufficient, cond=found_insufficient)
        | election_window.to(transfer_not_permitted, unless=found_insufficient)
        | notice_insufficient.to(transfer_not_permitted, unless=found_insufficient)
        | transfer_pending_approval.to(transfer_not_permitted, unless=found_insufficient)
    )
    # An exercise is judged by its notice's effective time: one given in time but entered after
    # the election (or even the sale window) timer fired still counts while no sale is recorded.
    # The company buys (all elected, or (B) chosen): the purchase. Part elected: the owner's
    # choice (FMP §6(d)(v)), unless a choice already stands: a written (A) that took effect
    # first, or the default on silence when the owner's 30 days from the notice's date ended
    # before the exercise took effect. The owner's choice is entered afresh (its window
    # reopened) by a further exercise for part.
    exercise = (
        _purchase(election_window, closing, valuation, company_buys)
        | election_window.to(owner_sale_window, cond=a_stands)
        | election_window.to(owner_choice)
        | _purchase(owner_choice, closing, valuation, company_buys)
        | owner_choice.to(owner_sale_window, cond=a_stands)
        | owner_choice.to(owner_choice)
        | _purchase(owner_sale_window, closing, valuation, company_buys)
        | owner_sale_window.to(owner_sale_window, cond=a_stands, internal=True)
        | owner_sale_window.to(owner_choice)
        | _purchase(rofr_reattached, closing, valuation, company_buys)
        | rofr_reattached.to(rofr_reattached, cond=a_stands, internal=True)
        | rofr_reattached.to(owner_choice)
        # FMP §6(d)(iii), (v)(B): after the owner's (B) the company's 30 days still run; a
        # further timely election enlarges the part it buys, and the closing is set afresh.
        | closing.to(closing, cond=company_buys)
        | valuation.to(valuation, cond=company_buys, internal=True)
    )
    # FMP §6(d)(v): the owner's choice, in writing (also a written (A) entered after (A) was
    # deemed: it is recorded, the sale window runs on) or deemed by silence.
    choose = (
        owner_choice.to(owner_sale_window, cond=a_stands)
        | _purchase(owner_choice, closing, valuation, b_chosen)
        | owner_sale_window.to(owner_sale_window, cond=a_stands, internal=True)
        | _purchase(owner_sale_window, closing, valuation, b_chosen)
    )
    owner_silent = owner_choice.to(owner_sale_window, cond=a_stands) | _purchase(
        owner_choice, closing, valuation, b_chosen
    )
    waive = election_window.to(owner_sale_window)
    # The company's time to elect ends: with nothing elected, the owner may sell; after an
    # exercise for part, it is recorded and the owner's choice runs on.
    election_expired = (
        election_window.to(owner_sale_window)
        | owner_choice.to(owner_choice, internal=True)
        | owner_sale_window.to(owner_sale_window, internal=True)
    )
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
    # FMP §6(d)(iii): valuing a non-cash price, before or after exercise; once valued after the
    # exercise, the purchase goes to closing.
    progress_valuation = (
        election_window.to(election_window, internal=True)
        | owner_choice.to(owner_choice, internal=True)
        | valuation.to(closing, cond=is_valued)
        | valuation.to(valuation, internal=True)
    )
    valuation_deadline_passed = (
        election_window.to(election_window, internal=True)
        | owner_choice.to(owner_choice, internal=True)
        | valuation.to(valuation, internal=True)
    )
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
    # RD ISO ¶12(c): shares in escrow are paid for through the escrow agent.
    close = closing.to(escrow_settlement, cond=through_escrow) | closing.to(repurchased)
    release = escrow_settlement.to(repurchased)
    # FMP §6(d)(iv): a sale of part of the shares; the rest stay for sale until the window ends
    # (or, reported late, stay under the right). RD ISO ¶11(e): recorded once approved.
    sell = (
        owner_sale_window.to(owner_sale_window, cond=unsold_remain, internal=True)
        | owner_sale_window.to(transfer_pending_approval, cond=needs_approval)
        | owner_sale_window.to(sold_to_third_party)
        | rofr_reattached.to(rofr_reattached, cond=unsold_remain, internal=True)
        | rofr_reattached.to(transfer_pending_approval, cond=needs_approval)
        | rofr_reattached.to(sold_to_third_party)
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
TRANSITIONS = CHART.transitions  # (source state, event) → the states it may lead to
STATES = CHART.states
