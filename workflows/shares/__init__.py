"""The share register (BYL Art. V §9, Art. VI §1, Art. VIII), ``KIND = "share_register"``: one
long-lived workflow per company, the book the Secretary keeps.

Commands (typed in ``workflows.shares.commands``; parties FMP / RD):
- ``open_share_register``: opened_at, kept_by, kept_at, share_classes, first_number,
  signatures (the officers whose facsimile signatures certificates bear). company, board.
- ``issue_share_certificate``: number?, holder{id, name, address}, shares, share_class,
  issued_at, legends[{key, clause, text}], signatures?, partly_paid?, escrow_agent?, source?.
  company, board.
- ``record_share_transfer``: surrendered[{number, endorsement, endorsed_by}], transferee,
  shares, effective_at, number?, balance_number?, release_legends, signatures?, source?.
  Refused without surrender (BYL Art. VIII §2). company, board.
- ``cancel_share_certificate``: number, endorsement, shares?, reason, cancelled_at,
  balance_number?, source?. company, board.
- ``change_holder_address``: holder, address, changed_at. owner, company.
- ``claim_lost_certificate`` / ``require_replacement_terms`` / ``replace_lost_certificate``
  (BYL Art. VIII §3): the claim, the officer's terms (security none, bond or other adequate
  security, with its amount), the replacement (refused without the security required).
  FMP only: RD's documents include no bylaws.

Internal commands, sent by other workflows through the engine (``workflows.shares.links``; the
system party only, each naming its sender's ``act``, recorded once):
- ``record_exercise_issuance``: act, number, holder, shares, share_class, issued_at, legends,
  escrow_agent?, watch? (RD ISO ¶14). From an exercise's issuance.
- ``record_rofr_transfer``: act, holder, transferee, shares, effective_at, certificates?,
  endorsement, free_and_clear, clause. From a ROFR's sale, assignee closing, exempt transfer.
- ``record_rofr_repurchase``: act, holder, shares, effective_at, certificates?, clause. From
  the Company's closing.
- ``void_rofr_transfer``: act, clause, reason. A transfer the ROFR holds void (FMP §6(i), RD
  ISO ¶11(f)): reversed as of its effective time, or blocked if not yet recorded.

Events: share_register_opened, share_certificate_issued, share_certificate_cancelled,
share_transfer_recorded, holders_of_record_changed, holder_address_changed,
certificate_claimed_lost, replacement_terms_required, lost_certificate_replaced,
disqualifying_disposition_reported (with a ``notice`` for the notices service) and
disqualifying_disposition_withdrawn, share_transfer_voided, share_cancellation_voided,
share_certificate_restored, share_transfer_blocked.

What other workflows read: ``workflows.shares.facts`` (``RegisterFacts``: holders of record;
``Holding``), built by the pure functions of ``workflows.shares.register``; through the engine's
register view, ``workflows.reads.HoldersOfRecord(at)``.
"""

from __future__ import annotations

from workflows.shares.decide import COMMANDS, decide
from workflows.shares.machine import CHART

KIND = "share_register"

__all__ = ["CHART", "COMMANDS", "KIND", "decide"]
