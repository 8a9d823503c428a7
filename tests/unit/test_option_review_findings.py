"""Findings of a clause-by-clause review of the option side against the agreements: each test
quotes the words it holds the code to."""

from __future__ import annotations

from exercise_flow import FMP, RD_ISO, RD_NSO, cash, facts, flow, notice
from fact_flow import FactFlow
from kind_flow import delivered
from test_termination_kind import rd_2027

NOTICE = delivered("2000-03-01T10:00")


def test_fmp_16d_s_corporation_limit_binds_only_transferees_after_death() -> None:
    """FMP §16(d): "in the event of death, the Option cannot be transferred to any person who is
    not eligible to be an S Corporation shareholder"; during the optionee's life the option "may
    be exercised ... only by Optionee or by his or her guardian or legal representative", with
    no eligibility test."""
    f = flow(FMP)
    guardian = notice(
        1_000,
        [cash("500")],
        NOTICE,
        facts(s_corporation=True),
        exercised_by={"name": "Pat Guardian", "capacity": "guardian"},
        investment_statement=True,
    )
    f.send("deliver_exercise_notice", "owner", "2000-03-01T11:00", guardian)
    assert f.state == "pending_delivery"


def test_rd_nso_7f_end_of_director_status_terminates_only_a_non_employee_grantee() -> None:
    """RD NSO ¶7(f): "in the event the Optionee is a director or consultant or an advisor but not
    an employee of the Participating Company at the time the Option is granted, termination of
    the Optionee's status as a director or consultant or an advisor ... shall be deemed to be
    termination of the Optionee's employment". An employee's option is untouched by the end
    of a directorship: ¶7(a) runs from the end of employment."""
    body = {"grant": "g-1", "reason": "end_of_service_status", "terminated_on": "2027-01-31"}
    employee = FactFlow("termination", RD_NSO, rd_2027(RD_NSO, service="employee"))
    r = employee.refused("terminate_service", "company", "2027-02-01T09:00", body)
    assert r.rule == "RD NSO ¶7(f); RD Plan ¶7(A)(iii)" and "employee" in r.reason
    director = FactFlow("termination", RD_NSO, rd_2027(RD_NSO, service="director"))
    director.send("terminate_service", "company", "2027-02-01T09:00", body)
    assert director.state == "window_open"


def test_rd_7c_extends_only_for_a_prevention_within_the_window() -> None:
    """RD ISO ¶7(c): "if the exercise of the Option within the applicable time periods set
    forth above is prevented by the provisions of paragraph 4(f)". Terminated 2027-01-31, the
    ¶7(a) window ended 2027-04-30: a bar arising on 2027-05-15 prevented no exercise within it,
    and does not reopen the option."""
    flow = FactFlow("termination", RD_ISO, rd_2027())
    ended = {"grant": "g-1", "reason": "without_cause", "terminated_on": "2027-01-31"}
    flow.send("terminate_service", "company", "2027-02-01T09:00", ended)
    late = {"prevented_since": "2027-05-15", "reason": "no exemption available"}
    r = flow.refused("record_exercise_prevented", "company", "2027-06-01T09:00", late)
    assert r.rule == "RD ISO ¶7(c)" and "2027-04-30" in r.reason
    within = {"prevented_since": "2027-04-01", "reason": "no exemption available"}
    flow.send("record_exercise_prevented", "company", "2027-06-01T09:00", within)
    assert flow.state == "window_open"
