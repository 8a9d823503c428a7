"""The termination's states and events in a stock administrator's words
(``workflows.kit.words``): for the demo's timeline, a dashboard, a notice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.kit.words import fill

STATE_SENTENCES = {
    "new": "No termination of service is recorded yet.",
    "window_open": "The optionee may exercise the part of the option kept at termination until "
    "the post-termination window ends.",
    "window_closed": "The post-termination window has closed: the part of the option not "
    "exercised in it has expired.",
}

EVENT_SENTENCES = {
    "service_terminated": "The optionee's service ended on {terminated_on}, {reason} "
    "({clause}): {vested:,} shares had vested ({vesting}); {exercisable:,} stay exercisable "
    "({retained_clause}).",
    "unvested_shares_forfeited": "{shares:,} unvested shares were forfeited and returned to the "
    "plan's pool ({clause}).",
    "post_termination_window_opened": "The post-termination window opened: {shares:,} shares may "
    "be exercised until it ends.",
    "post_termination_window_closed": "The post-termination window closed: "
    "{unexercised_expired:,} shares not exercised expired and returned to the plan's pool "
    "({deadline[clause]}).",
    "termination_deemed_on_account_of_death": "The optionee died on {died_on}, within the time "
    "after termination that makes it a termination on account of death: the window is "
    "counted again ({deadline[clause]}).",
    "exercise_prevented_by_law": "Exercise within the window is prevented by law: the window is "
    "extended ({deadline[clause]}).",
    "optionee_notified_option_exercisable": "The Company notified the optionee on {notified_on} "
    "that the option may be exercised ({deadline[clause]}).",
    "section_16b_exposure_recorded": "Exercise would expose the optionee to suit under Section "
    "16(b): the window is extended ({deadline[clause]}).",
}

REASONS = {
    "without_cause": "terminated without cause",
    "resignation": "by resignation",
    "for_cause": "terminated for cause",
    "death": "on account of death",
    "disability": "on account of permanent disability",
    "end_of_service_status": "as director or consultant",
    "employer_left_group": "as the employer left the company group",
    "leave_over_limit": "by a leave of absence over the limit",
    "leave_determined_termination": "by a leave the Board found to be a termination",
}


def event_sentence(event_type: str, payload: Mapping[str, Any]) -> str:
    fields = dict(payload)
    if "reason" in payload:
        fields["reason"] = REASONS.get(str(payload["reason"]), str(payload["reason"]))
    return fill(EVENT_SENTENCES, event_type, fields)


def state_sentence(state: str) -> str:
    return STATE_SENTENCES.get(state, f"The termination is at {state.replace('_', ' ')}.")
