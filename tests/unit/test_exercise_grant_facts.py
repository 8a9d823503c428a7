"""The exercise on its grant's facts, as the register view hands them (``reads`` → ``GrantOf``):
refused without its grant, judged against the claims of the grant's other exercises, holding
its own shares once accepted, and telling the grant the shares acquired when the certificate
issues (RD ISO ¶4(a), ¶10; FMP §4(b), §11)."""

from __future__ import annotations

from datetime import date

from exercise_flow import FMP, cash, facts, flow, grant_facts, notice
from kind_flow import delivered, iso

from workflows.exercise import reads
from workflows.grants.facts import Claim
from workflows.kernel import Actor, Command, Party, Send

ISSUE = {"certificate_number": "C-300", "issued_at": iso("2000-03-16T09:00")}


def _notice(shares: int = 1_000) -> dict[str, object]:
    return notice(shares, [cash(f"{shares * 0.5:.2f}")], delivered("2000-03-01T10:00"), facts(),
                  investment_statement=True)  # fmt: skip


def test_every_message_reads_the_grant_the_notice_names() -> None:
    command = Command("deliver_exercise_notice", Actor(Party.OWNER), {"grant": "G-1"})
    assert reads(None, {}, command).grant_id == "G-1"  # type: ignore[union-attr]
    later = Command("issue_certificate", Actor(Party.COMPANY), {})
    assert reads("pending_delivery", {"grant": "G-1"}, later).grant_id == "G-1"  # type: ignore[union-attr]


def test_a_notice_on_a_grant_the_register_does_not_hold_is_refused() -> None:
    f = flow(FMP)
    body = dict(_notice())
    body.pop("facts")
    body.update(grant="G-404", circumstances={"fair_market_value": facts()["fair_market_value"]})
    r = f.refused("deliver_exercise_notice", "owner", "2000-03-01T11:00", body)
    assert r.code == "no_grant" and "no grant G-404" in r.reason


def test_the_accepted_notice_holds_its_shares_of_the_grant() -> None:
    f = flow(FMP)
    f.send("deliver_exercise_notice", "owner", "2000-03-01T11:00", _notice(1_000))
    assert f.data["grant"] == "G-1"
    assert f.data["claim"] == {"shares": 1_000, "on": "2000-03-01"}


def test_another_exercise_under_way_leaves_only_the_rest() -> None:
    f = flow(FMP)
    body = _notice(2_000)
    held = Claim(exercise="other", shares=1_000, on=date(2000, 2, 1))
    f.facts = grant_facts(body["facts"]).model_copy(update={"claims": [held]})  # type: ignore[arg-type]
    body = {k: v for k, v in body.items() if k != "facts"} | {
        "grant": "G-1", "circumstances": {"fair_market_value": facts()["fair_market_value"],
                                          "securities_law": facts()["securities_law"]},
    }  # fmt: skip
    r = f.refused("deliver_exercise_notice", "owner", "2000-03-01T11:00", body)
    assert r.rule == "FMP §3(a), §1" and r.code == "not_exercisable"
    assert r.reason == (
        "only 1500 shares are exercisable on 2000-03-01 (2500 vested, 0 already exercised, "
        "1000 held for exercises under way); the notice asks for 2000"
    )


def test_the_certificate_issued_tells_the_grant_the_shares_acquired() -> None:
    f = flow(FMP)
    f.send("deliver_exercise_notice", "owner", "2000-03-01T11:00", _notice(1_000))
    d = f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert tuple(s for s in d.send if isinstance(s, Send) and s.workflow_type == "grant") == (
        Send("grant", "record_exercised_shares",
             {"shares": 1_000, "exercised_on": "2000-03-01", "certificate": "C-300"},
             workflow_id="G-1"),
    )  # fmt: skip


def test_an_exercise_stored_before_the_register_view_is_carried_to_its_end() -> None:
    """Its grant's facts on the notice's day were kept in ``data.facts``; the register holds no
    such grant. Its next acts read them from there."""
    f = flow(FMP)
    f.send("deliver_exercise_notice", "owner", "2000-03-01T11:00", _notice(1_000))
    for key in ("grant", "claim", "circumstances"):
        f.data.pop(key)
    f.data.update(grant_id="G-1", facts=facts(exercised=0))
    f.facts = None
    d = f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert f.state == "completed"
    assert [s.workflow_type for s in d.send] == ["share_register"]  # no grant in the register
    assert f.data["certificate"]["registered_in"] == "Alex Rivera"
    assert f.data["certificate"]["legends"][0]["clause"] == "FMP §6(f)"
