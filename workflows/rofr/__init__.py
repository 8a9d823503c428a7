"""The Right of First Refusal on a proposed transfer (docs/rules.md §7), ``KIND = "rofr"``.

Both agreement families run on this one workflow; what differs (windows, partial elections, what
a buyer takes, valuation of a non-cash price, escrow, lapse events, exempt transfers, who may
send what) is read from the pinned terms. ``decide(state, data, message, now, terms)`` is pure.
One workflow per notice (RD ISO ¶11(b): one notice per transferee). ``data["holder"]`` is the
owner's id, for indexing.

Times in payloads are ISO 8601 with an offset. A ``notice`` object is
``{method, delivered_at | deposited_at, dated?}``; its effective time comes from the terms
(``workflows.notices``) and every deadline runs from it, never from the time of entry. An act is
on time when its notice is effective at or before the deadline, even if entered after the
deadline's timer fired (as long as no third-party sale was recorded since). Likewise a sale is
judged by its ``sold_at``: one made inside the owner's sale window is recorded even if reported
after ``sale_window_end`` fired, which is why ``rofr_reattached`` is not a final state (it ends
with that late report, a later notice in the same workflow, or a lapse). A later notice is
judged on its own (RD ISO ¶11(d)): nothing of the earlier one carries over; it is kept in
``previous_notices``. Parties per preset below; a company's terms file can change them.

Commands (payload fields, typed in ``workflows.rofr.commands``; parties FMP / RD):
- ``deliver_transfer_notice`` (alias ``deliver_disposition_notice``): ``holder, shares,
  transferee{name, address}`` (or ``transferees[]``), ``transfer_type`` (sale | pledge | gift |
  involuntary), ``consideration{form: cash|indebtedness|property, price_per_share | total,
  description}``, ``compliance_proof`` (FMP §6(d)(ii)(2)), ``bona_fide_evidence``,
  ``signed_by[{party, name}]`` (who signed, by name) and ``binding_commitment`` (RD ¶11(b)),
  ``shares_in_escrow``, ``subject_to_repurchase_right``, ``notice``.
  ``notice.dated`` (the date written on it; FMP §6(d)(v) counts from it; not after delivery).
  Starts the workflow, resubmits after a finding of insufficiency, or gives a new notice once the
  right applies again. owner / owner.
- ``reject_transfer_notice``: ``ground`` (insufficient_information | not_bona_fide), ``reason``,
  ``notice``; after an RD sale is reported, only not_bona_fide (RD ISO ¶11(e)). company, board /
  company, board.
- ``assign_rofr``: ``assignee``. company, board / company, board.
- ``exercise_rofr``: ``notice``, ``shares`` (default: all remaining), ``price_per_share``
  (RD gift or involuntary: the FMV the company determines), ``payment`` (FMP property price:
  cash_value | as_offered), ``cash_equivalent`` (RD property price). company, board, assignee
  (an assignee must be named by ``assign_rofr``; the actor's name is checked) / same.
- ``waive_rofr``: ``notice``. company, board, assignee / same.
- ``choose_sale_alternative``: ``alternative`` (third_party_sale | sale_to_company), ``notice``.
  owner / not in RD.
- ``agree_cash_value``: ``cash_value, agreed_at``; ``appoint_joint_appraiser``: ``appraiser,
  appointed_at``; ``appoint_appraisers``: ``owner_appraiser, company_appraiser,
  third_appraiser, appointed_at``; ``record_valuation``: ``cash_value, valued_at``.
  company, board, assignee, owner / not in RD.
- ``complete_closing``: ``closed_at``, ``amount_paid``. company, board, assignee / same.
- ``release_escrow``: ``delivered_at``. not in FMP / escrow_agent.
- ``report_third_party_sale``: ``buyer{name}, shares, sold_at, price_per_share | total``,
  ``conforms_to_notice`` (non-cash or deemed price), ``transferee_agreed_in_writing`` (RD
  ¶11(f)). Accepted in ``owner_sale_window`` and, judged by ``sold_at``, in ``rofr_reattached``.
  FMP: a sale of part of the shares keeps the window open for the rest (sales add up, never past
  the notice's shares) and the right applies again to the unsold rest at the window's end; RD
  ISO ¶11(e): all the Transfer Shares or a new notice. owner / owner, transferee.
- ``demand_assurances``: ``assurances``; ``provide_assurances``: ``assurances``;
  ``approve_transfer``: -. Not in FMP / company, board; owner, transferee; company, board.
- ``record_lapse_event``: ``event``, ``occurred_at`` and the event's facts:
  ``holders_of_record``; ``offering_amount, firm_commitment, registered``; ``resolution`` (or
  the actor's reference); ``successor_assumes_plan``; ``market`` (national_exchange |
  otc_daily_prices). company, board (a public-market determination: board only) / same.
- ``propose_exempt_transfer``: ``holder, shares, category, transferee{name, relationship}``,
  ``without_consideration`` (gift), ``purchase_money_debt`` (pledge to the company),
  ``ownership_change`` (sale_of_stock | merger | sale_of_assets | liquidation, RD ISO ¶8).
  owner / owner, company, board.
- ``consent_to_transfer``: ``consented_at``; ``refuse_consent``: ``reason``. company, board /
  not in RD. ``acknowledge_transfer_terms``: ``acknowledged_at``. transferee / not in RD.
- ``complete_exempt_transfer``: ``transferred_at``, ``participating_company_stock``.
  owner, company, board / same.
- ``reconcile_rofr``: ``item``, ``note``: the company marks a reconciliation item reconciled
  (bookkeeping of the kit, ``workflows.kit.reconcile``; not an act). company, board / same.

Acts are judged by their effective time, whatever the order of entry (``workflows.kit.book``,
``workflows.rofr.timeline``): a timely act entered late is applied in its place, and a fact it
contradicts is voided (a transfer: ``rofr.void_transfer``, FMP §6(i), RD ISO ¶11(f)) and named
by a reconciliation item (``data.timeline.reconciliation``). ``assign_rofr`` takes an optional
``assigned_at``.

Timers: ``election_deadline`` (company), ``owner_choice_deadline`` (owner),
``value_agreement_deadline`` and ``joint_appraiser_deadline`` (company),
``closing_deadline`` (company), ``escrow_delivery_deadline`` (escrow agent),
``sale_window_end`` (owner).

Events: transfer_notice_received, election_window_opened, transfer_notice_found_insufficient,
transfer_found_not_bona_fide, rofr_assigned, rofr_exercised, owner_choice_window_opened,
sale_alternative_chosen, rofr_waived, election_window_expired, sale_window_opened,
cash_value_agreed, cash_value_agreement_deadline_passed, joint_appraiser_appointed,
joint_appraiser_deadline_passed, appraisers_appointed, cash_value_determined,
closing_awaits_valuation, closing_scheduled, closing_deadline_passed, repurchase_closed,
purchase_price_paid_to_escrow_agent, escrow_delivery_deadline_passed,
escrowed_shares_delivered, third_party_sale_reported, transfer_assurances_demanded,
transfer_assurances_provided, transfer_approved, transfer_recorded, sale_window_expired,
rofr_reattached, rofr_lapsed, exempt_transfer_proposed, transfer_consented,
transfer_consent_refused, transfer_terms_acknowledged, exempt_transfer_completed,
fact_voided, reconciliation_raised, reconciliation_closed.
Events for a delivered notice carry ``notice{kind, from_party, to_party, method, effective_at,
clause, derivation, delivered_at | deposited_at}``; events for a deadline carry
``deadline{at, clause, derivation, parts}``. ``third_party_sale_reported`` carries
``shares_sold`` (all sales so far) and ``shares_remaining``; ``rofr_reattached.shares`` is the
unsold rest the right applies to again.

States: see ``workflows.rofr.machine.RofrMachine``.
"""

from __future__ import annotations

from workflows.rofr.decide import COMMANDS, decide
from workflows.rofr.machine import CHART

KIND = "rofr"

__all__ = ["CHART", "COMMANDS", "KIND", "decide"]
