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
``previous_notices``. A company's terms file sets who may send what.

Commands: ``COMMANDS`` (``workflows.rofr.decide``) is the one list: each command's payload
model (``workflows.rofr.commands``, shown in OpenAPI and AsyncAPI) and its rule; who may send
each is the terms' ``rofr.parties``, each with its clause. The chart
(``workflows.rofr.machine``) says from which states each may move the transfer, and where.
``reconcile_rofr`` (``item``, ``note``) is the company marking a reconciliation item reconciled:
bookkeeping of the kit (``workflows.kit.reconcile``), not an act.

Acts are judged by their effective time, whatever the order of entry (``workflows.kit.book``,
``workflows.rofr.timeline``): a timely act entered late is applied in its place, and a fact it
contradicts is voided (a transfer: ``rofr.void_transfer``, FMP §6(i), RD ISO ¶11(f)) and named
by a reconciliation item (``data.timeline.reconciliation``). ``assign_rofr`` takes an optional
``assigned_at``.

What it completes it records in the company's share register (``workflows.rofr.recording``):
a sale to a third party, an assignee's closing, an exempt gift or succession
(``record_rofr_transfer``), the Company's closing (``record_rofr_repurchase``); an act that
recorded and is later voided is held void there too (``void_rofr_transfer``).

Timers: ``election_deadline`` (company), ``owner_choice_deadline`` (owner),
``value_agreement_deadline`` and ``joint_appraiser_deadline`` (company),
``closing_deadline`` (company), ``escrow_delivery_deadline`` (escrow agent),
``sale_window_end`` (owner).

Events: transfer_notice_received, election_window_opened, transfer_notice_found_insufficient,
transfer_found_not_bona_fide, rofr_assigned, rofr_exercised, owner_choice_window_opened,
sale_alternative_chosen, rofr_waived, rofr_waived_by_assignee, election_window_expired,
sale_window_opened, cash_value_proposed, cash_value_agreed, cash_value_agreement_deadline_passed,
joint_appraiser_proposed, joint_appraiser_appointed, joint_appraiser_deadline_passed,
appraiser_selected, third_appraiser_designated, appraisers_appointed, cash_value_determined,
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
