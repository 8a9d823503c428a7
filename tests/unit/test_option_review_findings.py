"""Findings of a clause-by-clause review of the option side against the agreements: each test
quotes the words it holds the code to."""

from __future__ import annotations

from exercise_flow import FMP, cash, facts, flow, notice
from kind_flow import delivered

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
