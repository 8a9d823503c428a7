"""The exercise of a stock option (docs/rules.md §3–§4), ``KIND = "option_exercise"``.

Both agreement families run on this one workflow; what differs (how the notice is given and to
whom, who may exercise, which payment forms are allowed and on what conditions, the withholding
Election, escrow, legends, fractions, the disqualifying-disposition watch) is read from the
pinned terms' ``option_exercise`` section. ``decide(state, data, message, now, terms)`` is pure.
One workflow per notice of exercise.

The grant's facts on the notice's effective date (shares, vested, exercisable, exercised,
expiration, post-termination window end, the FMV in force with the determination that made it,
the securities-law clearance, S-corporation status) come in with the notice as
``payload.facts`` (``workflows.exercise.facts.ExerciseFacts``) and are kept in the data; the
notice is refused unless they are as of its effective date.

Commands (typed in ``workflows.exercise.commands``; parties FMP / RD):
- ``deliver_exercise_notice`` (alias ``deliver_notice_of_exercise``): ``shares, notice,
  exercised_by{name, capacity, s_corporation_eligible}, payment[{form, amount | shares |
  note | program}], representations, investment_statement, facts``. owner / owner.
- ``accept_payment`` / ``refuse_payment``: the Board's consent to shares tendered (FMP
  §4(a)(ii)), the Company's approval of a sale-proceeds program (RD ISO ¶4(c)(iii)).
  board / company, board. ``tender_payment``: another payment after a refusal. owner / owner.
- ``require_withholding`` (amount, tax_date, fair_market_value, remit_by?, required_at?) /
  ``remit_withholding``.
  company, board; owner.
- ``elect_withholding`` (FMP §13(c)): method, portion, percentage, rate_basis, notice. owner /
  not in RD. ``approve_election`` / ``disapprove_election``: board / not in RD.
- ``request_investment_letter`` / ``deliver_investment_letter``. company, board; owner.
- ``require_escrow`` / ``deliver_escrow_agreement`` (RD ISO ¶12(a), ¶4(b)(ii)). not in FMP /
  company, board; owner.
- ``issue_certificate``: certificate_number, issued_at, additional_legends, omit_legends.
  company, board / same.
- ``reject_exercise``: ground, reason, rejected_at. company, board / same.
- ``withdraw_exercise``: withdrawn_at (FMP: only after the payment was refused). owner / owner.
- ``record_termination``: termination, reason, terminated_on, effective_at, retained,
  exercised_at_termination, window_ends_at, window_derivation, clause: the optionee's termination
  as the termination workflow reports it (FMP §5, RD ISO ¶7), taking effect at ``effective_at``;
  a notice or payment effective after it is judged against its window and shares.
  company, board / same.
- ``reconcile_exercise``: item, note: the company marks a reconciliation item reconciled
  (bookkeeping of the kit, not an act). company, board / same.

Acts are judged by when they took effect, whatever the order of entry
(``workflows.exercise.timeline``): the notice and the Election by the notice rules, the rest by
their own dates (``decided_at``, ``paid_at``, ``issued_at``...). A late act effective before a
fact already recorded voids what it contradicts (a certificate issued on an Election deemed
approved at the Tax Date, when the Board had disapproved it before) with a reconciliation item.

Timer: ``tax_date`` (board): the Election is deemed approved (FMP §13(c)(iii)).

Events: exercise_notice_received, payment_review_opened, exercise_accepted, payment_accepted,
payment_refused, withholding_required, withholding_remitted, withholding_election_made,
withholding_election_approved, withholding_election_disapproved,
withholding_election_deemed_approved, investment_letter_requested, investment_letter_delivered,
escrow_required, escrow_agreement_delivered, certificate_issued, disposition_watch_started,
exercise_completed, exercise_rejected, exercise_withdrawn, termination_recorded, fact_voided,
reconciliation_raised, reconciliation_closed.

The issuance sends the company's share register ``record_exercise_issuance`` with the
certificate and, for an ISO, the disqualifying-disposition watch
(``workflows.exercise.disposition``).

States: see ``workflows.exercise.machine.ExerciseMachine``.
"""

from __future__ import annotations

from workflows.exercise.decide import COMMANDS, decide
from workflows.exercise.machine import CHART

KIND = "option_exercise"

__all__ = ["CHART", "COMMANDS", "KIND", "decide"]
