"""The exercise of a stock option (docs/rules.md §3–§4), ``KIND = "option_exercise"``.

Both agreement families run on this one workflow; what differs (how the notice is given and to
whom, who may exercise, which payment forms are allowed and on what conditions, the withholding
Election, escrow, legends, fractions, the disqualifying-disposition watch) is read from the
pinned terms' ``option_exercise`` section. ``decide(state, data, message, now, terms)`` is pure.
One workflow per notice of exercise.

The grant's facts (``workflows.grants.facts.GrantFacts``: shares, schedule, the shares acquired
and held by its other exercises, expiration, a termination's window with its derivation) come
from the engine's register view, read under the grant's lock: ``reads`` names ``GrantOf`` the
grant the notice names (``payload.grant``, then ``data.grant``) for every message, and
``decide(..., facts=GrantFacts)`` takes them. The notice is judged on its effective date against
what is exercisable then, less what the grant's other exercises hold (``vesting.room``); once
accepted it holds its shares (``data.claim``, read by the register view from this row) until
rejected or withdrawn, so two exercises of one grant never together exceed what is exercisable.
When the certificate issues the shares are acquired (``shares_acquired``: FMP §4(b), §11; RD ISO
¶4(a), ¶10) and the exercise sends its grant ``record_exercised_shares``. What the Company
knows of the exercise's circumstances (the FMV in force with its determination, the
securities-law clearance, registration, S-corporation status, whether the optionee is living,
the first refusal) comes with the notice (``payload.circumstances``,
``workflows.exercise.facts.Circumstances``).

Commands (typed in ``workflows.exercise.commands``; parties FMP / RD):
- ``deliver_exercise_notice`` (alias ``deliver_notice_of_exercise``): ``grant, shares, notice,
  exercised_by{name, capacity, s_corporation_eligible}, payment[{form, amount | shares |
  note | program}], representations, investment_statement, circumstances``. owner / owner.
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
- ``record_termination``: reason, terminated_on, effective_at, retained,
  exercised_at_termination, window_ends_at, window_derivation, clause: the optionee's termination
  as the grant's termination sends it to every open exercise of the grant (FMP §5, RD ISO ¶7),
  taking effect at ``effective_at``; a notice or payment effective after it is judged against
  its window and shares. Internal: the system party only.
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

from workflows.exercise.decide import COMMANDS, FACTS, decide, reads
from workflows.exercise.machine import CHART

KIND = "option_exercise"

__all__ = ["CHART", "COMMANDS", "FACTS", "KIND", "decide", "reads"]
