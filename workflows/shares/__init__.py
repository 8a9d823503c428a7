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

Events: share_register_opened, share_certificate_issued, share_certificate_cancelled,
share_transfer_recorded, holders_of_record_changed, holder_address_changed,
certificate_claimed_lost, replacement_terms_required, lost_certificate_replaced.

What other workflows read: ``workflows.shares.facts`` (``RegisterFacts``: holders of record;
``Holding``), built by the pure functions of ``workflows.shares.register``.
"""

from __future__ import annotations

from workflows.shares.decide import COMMANDS, decide
from workflows.shares.machine import CHART

KIND = "share_register"

__all__ = ["CHART", "COMMANDS", "KIND", "decide"]
