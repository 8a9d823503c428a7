"""The ROFR state machine: every state a transfer can be in and every legal move between them.

``decide`` never sets a state by hand: each rule names a transition, and the target comes from
this machine, so a move the diagram does not allow cannot happen. ``print(f"{RofrMachine:md}")``
or ``RofrMachine()._graph()`` shows it.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.kernel import Refused


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

    repurchased = State(final=True)
    sold_to_third_party = State(final=True)
    rofr_reattached = State(final=True)  # sale window ended unsold: the right applies again
    lapsed = State(final=True)
    transfer_not_permitted = State(final=True)
    exempt_transfer_completed = State(final=True)
    exempt_transfer_refused = State(final=True)

    submit_notice = new.to(election_window) | notice_insufficient.to(election_window)
    find_insufficient = election_window.to(notice_insufficient)
    find_not_bona_fide = election_window.to(transfer_not_permitted) | notice_insufficient.to(
        transfer_not_permitted
    )
    exercise_all = (
        election_window.to(closing) | owner_choice.to(closing) | owner_sale_window.to(closing)
    )
    exercise_all_to_value = (
        election_window.to(valuation) | owner_choice.to(valuation) | owner_sale_window.to(valuation)
    )
    exercise_part = (
        election_window.to(owner_choice)
        | owner_choice.to(owner_choice, internal=True)
        | owner_sale_window.to(owner_choice)
    )
    choose_third_party = owner_choice.to(owner_sale_window)
    choose_company = owner_choice.to(closing) | owner_sale_window.to(closing)
    choose_company_to_value = owner_choice.to(valuation) | owner_sale_window.to(valuation)
    waive = election_window.to(owner_sale_window)
    election_expired = election_window.to(owner_sale_window)
    owner_silent = owner_choice.to(owner_sale_window)
    note = (
        election_window.to(election_window, internal=True)
        | owner_choice.to(owner_choice, internal=True)
        | valuation.to(valuation, internal=True)
        | closing.to(closing, internal=True)
        | escrow_settlement.to(escrow_settlement, internal=True)
        | owner_sale_window.to(owner_sale_window, internal=True)
        | transfer_pending_approval.to(transfer_pending_approval, internal=True)
        | exempt_transfer_pending.to(exempt_transfer_pending, internal=True)
        | notice_insufficient.to(notice_insufficient, internal=True)
    )
    value_settled = valuation.to(closing)
    close = closing.to(repurchased)
    pay_escrow_agent = closing.to(escrow_settlement)
    release = escrow_settlement.to(repurchased)
    sell = owner_sale_window.to(sold_to_third_party)
    sell_pending_approval = owner_sale_window.to(transfer_pending_approval)
    approve = transfer_pending_approval.to(sold_to_third_party)
    sale_window_expired = owner_sale_window.to(rofr_reattached)
    lapse = (
        election_window.to(lapsed)
        | notice_insufficient.to(lapsed)
        | owner_choice.to(lapsed)
        | valuation.to(lapsed)
        | closing.to(lapsed)
        | owner_sale_window.to(lapsed)
    )
    propose_exempt = new.to(exempt_transfer_pending)
    complete_exempt = exempt_transfer_pending.to(exempt_transfer_completed)
    refuse_exempt = exempt_transfer_pending.to(exempt_transfer_refused)


def _table() -> dict[tuple[str, str], State]:
    table: dict[tuple[str, str], State] = {}
    for state in RofrMachine.states:
        for transition in state.transitions:
            for event in transition.events:
                table[(state.id, str(event.id))] = transition.target
    return table


TRANSITIONS = _table()  # (source state, transition) → target: built once from the machine
STATES = {s.id: s for s in RofrMachine.states}


def target(state: str, transition: str, *, rule: str, action: str) -> State:
    """The state a legal transition leads to; Refused citing ``rule`` if the machine forbids it."""
    found = TRANSITIONS.get((state, transition))
    if found is None:
        raise Refused(
            rule, f"cannot {action} while the transfer is {state.replace('_', ' ')}", "wrong_state"
        )
    return found
