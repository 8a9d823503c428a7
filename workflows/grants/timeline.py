"""When each act of a grant took effect, and how acts at the same instant are ordered.

A grant takes effect on its ``grant_date`` (FMP certificate, "Date of Grant"; RD ISO ¶1(e)) and
a leave of absence on the day it starts (``starts_on``; RD ISO ¶7(e) counts that day as the
leave's first; FMP §5(a) leaves it to the Board whether it is a termination): both at the start
of their day in the company's zone, since each covers the whole day. So a leave recorded after
the option expired, but begun while it was outstanding, is recorded in its place. At one
instant the grant comes before a leave starting the same day.
"""

from __future__ import annotations

from workflows.kit.days import START, by_day
from workflows.kit.effective import EffectiveTime

EFFECTIVE: dict[str, EffectiveTime] = {
    "grant_option": by_day("grant_date", START),
    "record_leave": by_day("starts_on", START),
}

RANKS: dict[str, int] = {"grant_option": 0, "record_leave": 10}
