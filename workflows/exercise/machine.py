"""The exercise's chart: every state an exercise can be in and every legal move between them.

``decide`` never sets a state by hand: each rule names a transition and the target comes from
this chart (``workflows.kit.chart``), so a move the diagram does not allow cannot happen.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.kit.chart import Chart


class ExerciseMachine(StateMachine):
    new = State(initial=True)
    # FMP §4(a)(ii): shares tendered need the Board's consent; RD ISO ¶4(c)(iii): sale proceeds
    # need a program the Company approves (and it may decline).
    payment_review = State()
    awaiting_payment = State()  # the tendered payment was refused: another is owed
    # Notice and payment accepted: the conditions of delivery (withholding, the investment
    # letter, escrow) are settled here, then the certificate issues.
    pending_delivery = State()
    election_pending = State()  # FMP §13(c): the Election waits for the Board, or the Tax Date

    completed = State(final=True)
    rejected = State(final=True)
    withdrawn = State(final=True)

    submit_notice = new.to(payment_review)
    accept_notice = new.to(pending_delivery)
    accept_payment = payment_review.to(pending_delivery)
    refuse_payment = payment_review.to(awaiting_payment)
    tender_for_review = awaiting_payment.to(payment_review)
    tender_accepted = awaiting_payment.to(pending_delivery)
    # Conditions of delivery recorded without moving the exercise.
    record_condition = pending_delivery.to(pending_delivery, internal=True) | election_pending.to(
        election_pending, internal=True
    )
    elect = pending_delivery.to(election_pending)
    approve_election = election_pending.to(pending_delivery)
    disapprove_election = election_pending.to(pending_delivery)
    election_deemed_approved = election_pending.to(pending_delivery)
    issue = pending_delivery.to(completed)
    reject = (
        payment_review.to(rejected)
        | awaiting_payment.to(rejected)
        | pending_delivery.to(rejected)
        | election_pending.to(rejected)
    )
    withdraw = (
        payment_review.to(withdrawn)
        | awaiting_payment.to(withdrawn)
        | pending_delivery.to(withdrawn)
        | election_pending.to(withdrawn)
    )


STATE_WORDS = {
    "new": "not yet exercised",
    "payment_review": "waiting for the company's decision on the form of payment",
    "awaiting_payment": "waiting for another payment (the one tendered was refused)",
    "pending_delivery": "accepted, the conditions of delivery open",
    "election_pending": "waiting for the Board's decision on the withholding Election",
    "completed": "completed (the certificate issued)",
    "rejected": "rejected",
    "withdrawn": "withdrawn",
}

CHART = Chart(ExerciseMachine, STATE_WORDS, subject="the exercise")
