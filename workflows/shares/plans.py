"""Shares issued under a plan and repurchased by the Company go back to its reserve (RD Plan
¶4: "shares of Stock subject to repurchase are repurchased by the Company ... such repurchased
shares may again be subject to an Option grant").

A certificate an exercise issued carries the plan of the exercised grant (``plan``, sent by the
exercise with ``record_exercise_issuance``). The certificates made of it (the balance left to
the holder, the transferee's certificate, a replacement) carry it on when every certificate
surrendered for them carries the same plan; shares merged with others on one certificate can
no longer be told apart and stay off the reserve (judgment call: the reserve is never
overstated). Shares never issued on an exercise (founders' shares) trace to no plan.

When the Company takes shares of a traced certificate (``purchased_by_company`` at a ROFR
closing, ``repurchased``), the shares taken are counted once, at the cancellation's effective
time, in ``plan_returns`` (plan → shares), which the grants' reserve check reads through the
engine's register view; a cancellation held void (FMP §6(i), RD ISO ¶11(f)) takes them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Cert = dict[str, Any]

#: The cancellation reasons that are the Company's repurchase of the shares (RD Plan ¶4);
#: shares surrendered to the Company otherwise (in payment, say) are not.
REPURCHASES = frozenset({"purchased_by_company", "repurchased"})


def traced(certs: Sequence[Mapping[str, Any]]) -> str | None:
    """The plan every certificate of ``certs`` was issued under, else None."""
    plans = {cert.get("plan") for cert in certs}
    if len(plans) != 1:
        return None
    return plans.pop()


def carry(cert: Cert, certs: Sequence[Mapping[str, Any]]) -> Cert:
    """``cert``, made of ``certs``, with their plan when they share one."""
    plan = traced(certs)
    if plan is not None:
        cert["plan"] = plan
    return cert


def returned(data: Mapping[str, Any], plan: str) -> int:
    """The shares of ``plan`` the Company has repurchased, as the register holds them."""
    return int((data.get("plan_returns") or {}).get(plan) or 0)


def count_return(
    data: dict[str, Any], cert: Mapping[str, Any], reason: str, shares: int
) -> str | None:
    """Count ``shares`` taken from ``cert`` back to its plan if the Company repurchased them;
    the plan counted, or None."""
    plan = cert.get("plan")
    if plan is None or reason not in REPURCHASES or shares <= 0:
        return None
    returns = data.setdefault("plan_returns", {})
    returns[plan] = int(returns.get(plan) or 0) + shares
    return str(plan)


def undo_return(data: dict[str, Any], cancelled: Mapping[str, Any]) -> None:
    """A repurchase held void returned nothing to the plan."""
    plan = cancelled.get("returned_to_plan")
    if plan is None:
        return
    returns = data.setdefault("plan_returns", {})
    returns[plan] = int(returns.get(plan) or 0) - int(cancelled["shares_taken"])
