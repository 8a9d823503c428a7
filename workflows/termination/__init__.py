"""Termination of service and the post-termination exercise window (docs/rules.md §5),
``KIND = "termination"``: one workflow per terminated grant.

``terminate_service`` (company, board): ``grant, reason, terminated_on, effective_at?,
leave_started_on?`` (RD ISO ¶7(e): a leave over 90 days ends employment on its 91st day),
``disability_proof?`` (FMP §5(d)), ``resolution?`` (FMP §5(a): the Board finds a leave a
termination). The part not exercisable on the last day of employment is forfeited and returns
to the pool; the rest may be exercised until the window ends (FMP §5: 30 days, six months,
immediately for cause; RD ISO ¶7(a): three months, twelve), never after the expiration.
RD only: ``record_death`` (``died_on``: within three months after termination it becomes a
termination on account of death), ``record_exercise_prevented`` and ``notify_exercisable``
(¶7(c)), ``record_section_16b_exposure`` (``exposure_ends_on?``, ¶7(d)).
Acts are judged by when they took effect (``workflows.termination.timeline``): a termination at
``effective_at`` or the end of its last day of service, a death or the ¶7(c) notice at the end
of its day, whatever the order of entry; what a late act contradicts (a window closed too
early) is named by a reconciliation item, marked reconciled with ``reconcile_termination``
(``item``, ``note``; company, board).

Timer: ``exercise_window_end`` → ``post_termination_window_closed`` (the unexercised part
expired). Events: service_terminated, unvested_shares_forfeited,
post_termination_window_opened, post_termination_window_closed,
termination_deemed_on_account_of_death, exercise_prevented_by_law,
optionee_notified_option_exercisable, section_16b_exposure_recorded; each window carries its
``deadline{at, clause, derivation, parts}``.

Facts: ``decide(..., facts=GrantFacts)``: the terminated grant as the register view loads it
(``reads`` names it: ``GrantOf``), under the grant's lock. The termination tells its grant
(``record_grant_termination``, a message through the engine) and every open exercise of the grant
(``record_termination``, a fan-out by the grant's index, taking effect there when the termination
did) when it is recorded and whenever its window is recomputed. The shares held by exercises
under way at the termination are neither forfeited nor retained (``GrantFacts.claimed``).
"""

from __future__ import annotations

from workflows.termination.decide import COMMANDS, FACTS, decide, reads
from workflows.termination.machine import CHART

KIND = "termination"

__all__ = ["CHART", "COMMANDS", "FACTS", "KIND", "decide", "reads"]
