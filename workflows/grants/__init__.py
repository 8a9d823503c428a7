"""An option grant (docs/rules.md §3), ``KIND = "grant"``: a long-lived workflow from its grant
to its expiration.

``grant_option`` (company, board) is checked against the plan as the terms state it: the types
and who may hold them (RD Plan ¶3), the price against the Board's FMV on the grant date
(RD Plan ¶6(A): 100% / 85% / 110%), the term (RD Plan ¶6(B): 10 years, 5 for a Ten Percent
Owner Optionee; the Option Term Date of RD ISO ¶1(h) when none is stated), the share reserve
(RD Plan ¶4) and the granting period (RD Plan ¶5). Payload: ``optionee, plan, shares,
exercise_price, grant_date, expiration_date?, option_type?, ten_percent_owner, service,
installments[{on, shares}] | initial_vesting_date, resolution?``. ``record_leave`` (company,
board): ``starts_on, ends_on?, vesting_credit, reemployment_guaranteed``. Acts are judged by
when they took effect (``workflows.grants.timeline``): a grant at the start of its
``grant_date``, a leave at the start of its ``starts_on``, whatever the order of entry.
``reconcile_grant`` (``item``, ``note``; company, board) marks a reconciliation item reconciled.
``record_grant_termination`` (sent only by a termination, through the engine): the service ended,
the unvested part forfeited and back in the pool, the window's end.
``record_exercised_shares`` (sent only by an exercise of the grant when its certificate issues):
``shares, exercised_on, certificate`` added to ``data.exercises`` and ``data.exercised``, in any
state but new (an exercise noticed before the expiry may issue after it: ``expired`` is not
final).

Timer: ``option_expiry`` at the end of the expiration date → ``option_expired``.
Events: option_granted (with the checks it passed, the FMV determination it used, and the
expiration deadline), leave_recorded, termination_recorded, exercised_shares_recorded,
option_expired.

Facts: ``decide(..., facts=GrantingFacts)``: the FMV in force and the plan's dates and
shares committed, loaded by the engine's register view as ``reads`` names them (``FmvOn``,
``PlanOf``: ``workflows.reads``); ``FACTS`` names the model. What other
workflows read of a grant is ``workflows.grants.facts.GrantFacts`` (``register.facts_of``
builds it from the grant's row, its exercises' claims and its termination), and
``workflows.grants.vesting`` computes vested and exercisable shares from it.
"""

from __future__ import annotations

from workflows.grants.decide import COMMANDS, FACTS, decide, reads
from workflows.grants.machine import CHART

KIND = "grant"

__all__ = ["CHART", "COMMANDS", "FACTS", "KIND", "decide", "reads"]
