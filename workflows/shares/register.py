"""Pure reads of a share register's data, for its own rules and for other kinds.

Every function takes the register's data (the workflow row's ``data``) and an instant ``at``:
a certificate is outstanding at ``at`` if it was issued at or before it and not cancelled by
then, so a count is judged as of when acts took effect, not when they were entered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workflows.shares.facts import CertificateFacts, Holding, RegisterFacts

Data = Mapping[str, Any]


def outstanding(cert: Mapping[str, Any], at: datetime | None = None) -> bool:
    cancelled = cert.get("cancelled")
    if at is None:
        return cancelled is None
    if datetime.fromisoformat(cert["issued_at"]) > at:
        return False
    return cancelled is None or datetime.fromisoformat(cancelled["at"]) > at


def outstanding_certificates(data: Data, at: datetime | None = None) -> list[Mapping[str, Any]]:
    return [c for c in (data.get("certificates") or {}).values() if outstanding(c, at)]


def holders_of_record(data: Data, at: datetime | None = None) -> int:
    """The number of holders of record: distinct holders of an outstanding certificate."""
    return len({c["holder"] for c in outstanding_certificates(data, at)})


def certificate_facts(cert: Mapping[str, Any]) -> CertificateFacts:
    return CertificateFacts(
        number=cert["number"],
        holder=cert["holder"],
        shares=cert["shares"],
        share_class=cert["share_class"],
        issued_at=datetime.fromisoformat(cert["issued_at"]),
        legends=[legend["key"] for legend in cert.get("legends") or []],
        source=cert.get("source"),
        escrow_agent=cert.get("escrow_agent"),
        claimed_lost=bool(cert.get("lost")),
    )


def certificates_of(data: Data, holder: str, at: datetime | None = None) -> list[CertificateFacts]:
    """The holder's outstanding certificates, by number."""
    found = [c for c in outstanding_certificates(data, at) if c["holder"] == holder]
    return [certificate_facts(c) for c in sorted(found, key=lambda c: _order(c["number"]))]


def holding(data: Data, holder: str, at: datetime | None = None) -> Holding | None:
    """What ``holder`` holds of record, or None if the register never recorded them."""
    who = (data.get("holders") or {}).get(holder)
    if who is None:
        return None
    certs = certificates_of(data, holder, at)
    shares: dict[str, int] = {}
    for c in certs:
        shares[c.share_class] = shares.get(c.share_class, 0) + c.shares
    return Holding(
        holder=holder, name=who["name"], address=who["address"], shares=shares, certificates=certs
    )


def facts_of(data: Data, at: datetime) -> RegisterFacts:
    certs = outstanding_certificates(data, at)
    shares: dict[str, int] = {}
    for c in certs:
        shares[c["share_class"]] = shares.get(c["share_class"], 0) + c["shares"]
    return RegisterFacts(
        as_of=at,
        holders_of_record=len({c["holder"] for c in certs}),
        shares_outstanding=shares,
        certificates_outstanding=len(certs),
    )


def _order(number: str) -> tuple[int, int, str]:
    return (0, int(number), "") if number.isdigit() else (1, 0, number)
