"""The disqualifying-disposition watch, kept on the certificates it covers (RD ISO ¶14).

The exercise of an incentive stock option computes its watch (the later of one year after
exercise and two years after grant) and sends it with the certificate it issued. The register
keeps it on that certificate, and on the balance certificate that carries the holder's
remaining shares after a transfer of part: every later transfer or cancellation of those shares
is recorded here and nowhere else, so this is where it is seen, at the transfer's effective
time, once. A disposition on or before the watch's last day is reported to the officer the
terms name (``disqualifying_disposition_reported``, with a ``notice`` the notices service
records); one whose transfer is later held void is withdrawn.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from workflows.shares.context import Ctx, Step

Cert = dict[str, Any]


def _first_watched(certs: list[Cert]) -> list[Cert]:
    """Watched certificates first: shares surrendered together are taken as the watched ones
    first (judgment call: the CFO hears of every disposition that may be disqualifying)."""
    return sorted(certs, key=lambda c: c.get("watch") is None)


def report(
    ctx: Ctx, step: Step, certs: list[Cert], shares: int, at: datetime, to: str
) -> list[dict[str, Any]]:
    """The dispositions of watched shares among ``shares`` taken from ``certs`` at ``at``."""
    day, left, reports = ctx.cal.local_date(at), shares, []
    for cert in _first_watched(certs):
        watch = cert.get("watch")
        if not watch or left <= 0:
            break
        disposed = min(left, cert["shares"])
        left -= disposed
        if day > date.fromisoformat(watch["ends_on"]):
            continue  # the watch ended: a qualifying disposition
        found = {
            "exercise": watch["exercise"],
            "holder": cert["holder"],
            "certificate": cert["number"],
            "shares": disposed,
            "disposed_on": day.isoformat(),
            "to": to,
            "watch": {k: watch[k] for k in ("exercised_on", "granted_on", "ends_on", "derivation")},
            "notify": watch["notify"],
            "clause": watch["clause"],
        }
        notice = {
            "kind": "disqualifying_disposition",
            "from_party": "owner",
            "to_party": "company",
            "method": "share_register",
            "effective_at": at.isoformat(),
            "clause": watch["clause"],
        }
        step.event("disqualifying_disposition_reported", **found, notice=notice)
        reports.append(found)
    return reports


def carried(certs: list[Cert], reports: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The watch the balance certificate keeps: that of a watched certificate not wholly
    disposed of (its remaining shares are on the balance)."""
    disposed = {r["certificate"]: r["shares"] for r in reports}
    for cert in _first_watched(certs):
        watch = cert.get("watch")
        if watch and disposed.get(cert["number"], 0) < cert["shares"]:
            return dict(watch)
    return None


def withdraw(step: Step, reports: list[dict[str, Any]], clause: str, reason: str) -> None:
    """A transfer held void disposed of nothing: its reports are withdrawn."""
    for r in reports:
        step.event(
            "disqualifying_disposition_withdrawn",
            exercise=r["exercise"],
            holder=r["holder"],
            certificate=r["certificate"],
            shares=r["shares"],
            notify=r["notify"],
            clause=clause,
            reason=reason,
        )
