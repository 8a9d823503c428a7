"""FMP §6(d): the main paths of the Right of First Refusal with dates taken from the clause."""

from __future__ import annotations

from test_rofr_harness import ROFR, Flow, at, delivered, event, fmp_notice, iso, mailed, types

from workflows.kernel import TimerFired

FMP = "fmp-1998-nso"


def started() -> Flow:
    flow = Flow(FMP)
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    return flow


def test_disposition_notice_opens_a_30_day_election_window_from_receipt() -> None:
    flow = Flow(FMP)
    d = flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    assert flow.state == "election_window"
    assert types(d) == ["transfer_notice_received", "election_window_opened"]
    timer = flow.timers["election_deadline"]
    assert timer.deadline.at == at("2026-04-01T23:59:59.999999")
    assert timer.deadline.clause == "FMP §6(d)(iii)"
    assert timer.deadline.derivation.startswith(
        "FMP §6(d)(iii): Disposition Notice received 2026-03-02 + 30 days → 2026-04-01 23:59 PDT"
    )
    assert "delivered in person 2026-03-02 10:00 PST, FMP §16(b)(2)" in timer.deadline.derivation
    assert timer.party == "company"
    notice = event(d, "transfer_notice_received")["notice"]
    assert notice["kind"] == "transfer_notice"
    assert (notice["from_party"], notice["to_party"]) == ("owner", "company")
    assert notice["effective_at"] == at("2026-03-02T10:00").isoformat()
    assert flow.data["holder"] == "alice"


def test_a_mailed_notice_runs_from_72_hours_after_deposit() -> None:
    flow = Flow(FMP)
    flow.send(
        "deliver_transfer_notice",
        "owner",
        "2026-02-28T10:00",
        fmp_notice(notice=mailed("2026-02-27T09:00")),
    )
    # effective 2026-03-02 09:00 (FMP §16(b)(1)), so the window still ends on 2026-04-01
    assert flow.deadline("election_deadline") == at("2026-04-01T23:59:59.999999")
    assert "deposited by certified mail 2026-02-27 09:00 PST + 72 hours → 2026-03-02 09:00 PST" in (
        flow.timers["election_deadline"].deadline.derivation
    )


def test_full_exercise_schedules_closing_30_days_after_the_exercise_notice() -> None:
    flow = started()
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-20T12:00",
        {"notice": delivered("2026-03-20T09:00")},
        actor="CFO",
    )
    assert flow.state == "closing"
    assert types(d) == ["rofr_exercised", "closing_scheduled"]
    exercised = event(d, "rofr_exercised")
    assert (exercised["scope"], exercised["shares"]) == ("all", 1000)
    assert exercised["notice"]["to_party"] == "owner"
    assert "election_deadline" in d.cancel_timers
    assert flow.deadline("closing_deadline") == at("2026-04-19T23:59:59.999999")
    assert flow.timers["closing_deadline"].deadline.clause == "FMP §6(d)(iii)"
    d = flow.send(
        "complete_closing",
        "company",
        "2026-04-10T12:00",
        {"closed_at": "2026-04-10T11:00:00-07:00", "amount_paid": "2500.00"},
    )
    assert flow.state == "repurchased" and d.final
    assert event(d, "repurchase_closed")["on_time"] is True


def test_closing_deadline_passing_is_recorded_and_a_late_closing_is_marked_late() -> None:
    flow = started()
    flow.send(
        "exercise_rofr", "company", "2026-03-20T12:00", {"notice": delivered("2026-03-20T09:00")}
    )
    d = flow.fire("closing_deadline")
    assert flow.state == "closing" and types(d) == ["closing_deadline_passed"]
    d = flow.send(
        "complete_closing", "company", "2026-04-25T12:00", {"closed_at": iso("2026-04-25T10:00")}
    )
    assert event(d, "repurchase_closed")["on_time"] is False


def test_an_exercise_notice_effective_after_the_deadline_is_refused() -> None:
    flow = started()
    r = flow.refused(
        "exercise_rofr", "company", "2026-04-02T12:00", {"notice": delivered("2026-04-02T08:00")}
    )
    assert r.rule == "FMP §6(d)(iii)" and r.code == "late"
    # mailed in time, but effective 72 hours after deposit: after the deadline
    r = flow.refused(
        "exercise_rofr", "company", "2026-03-31T12:00", {"notice": mailed("2026-03-30T09:00")}
    )
    assert r.rule == "FMP §6(d)(iii)" and "2026-04-02 09:00 PDT" in r.reason


def test_a_timely_exercise_entered_after_the_timer_fired_is_still_accepted() -> None:
    flow = started()
    d = flow.fire("election_deadline")
    assert flow.state == "owner_sale_window"
    assert "sale_window_opened" in types(d)
    d = flow.send(
        "exercise_rofr", "company", "2026-04-03T09:00", {"notice": delivered("2026-04-01T16:00")}
    )
    assert flow.state == "closing"
    assert event(d, "rofr_exercised")["entered_after_deadline"] is True
    assert "sale_window_end" in d.cancel_timers and "sale_window_end" not in flow.timers


def test_no_election_opens_a_30_day_sale_window_and_the_buyer_takes_free_and_clear() -> None:
    flow = started()
    flow.fire("election_deadline")
    timer = flow.timers["sale_window_end"]
    assert timer.deadline.at == at("2026-05-01T23:59:59.999999")
    assert timer.deadline.clause == "FMP §6(d)(iv)"
    assert timer.party == "owner"
    sale = {
        "buyer": {"name": "Eve"},
        "shares": 1000,
        "price_per_share": "2.75",
        "sold_at": iso("2026-04-20T10:00"),
    }
    d = flow.send("report_third_party_sale", "owner", "2026-04-21T09:00", sale)
    assert flow.state == "sold_to_third_party" and d.final
    recorded = event(d, "transfer_recorded")
    assert recorded["buyer_takes"] == "free_and_clear" and recorded["clause"] == "FMP §6(d)(iv)"


def test_a_sale_on_terms_more_favourable_to_the_buyer_is_refused() -> None:
    flow = started()
    flow.fire("election_deadline")
    r = flow.refused(
        "report_third_party_sale",
        "owner",
        "2026-04-21T09:00",
        {
            "buyer": {"name": "Eve"},
            "shares": 1000,
            "price_per_share": "2.00",
            "sold_at": iso("2026-04-20T10:00"),
        },
    )
    assert r.rule == "FMP §6(d)(iv)"


def test_a_sale_before_the_election_ends_or_after_the_window_is_refused() -> None:
    flow = started()
    sale = {
        "buyer": {"name": "Eve"},
        "shares": 1000,
        "price_per_share": "2.50",
        "sold_at": iso("2026-03-10T10:00"),
    }
    r = flow.refused("report_third_party_sale", "owner", "2026-03-10T12:00", sale)
    assert r.rule == "FMP §6(d)(iv)" and r.code == "too_early"
    flow.fire("election_deadline")
    sale["sold_at"] = iso("2026-05-02T10:00")
    r = flow.refused("report_third_party_sale", "owner", "2026-05-03T12:00", sale)
    assert r.rule == "FMP §6(d)(iv)" and r.code == "late"


def test_the_sale_window_expiring_reattaches_the_right() -> None:
    flow = started()
    flow.fire("election_deadline")
    d = flow.fire("sale_window_end")
    assert flow.state == "rofr_reattached" and not d.final  # a timely sale may still come in
    assert types(d) == ["sale_window_expired", "rofr_reattached"]
    assert event(d, "rofr_reattached")["clause"] == "FMP §6(d)(iv)"
    assert flow.timers == {}


SALE_ON_LAST_DAY = {
    "buyer": {"name": "Eve"},
    "shares": 1000,
    "price_per_share": "2.50",
    "sold_at": iso("2026-05-01T16:00"),  # the last day of the window (2026-04-01 + 30 days)
}


def test_a_sale_inside_the_window_reported_after_it_closed_is_recorded() -> None:
    flow = started()
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    d = flow.send("report_third_party_sale", "owner", "2026-05-04T09:00", SALE_ON_LAST_DAY)
    assert flow.state == "sold_to_third_party" and d.final
    reported = event(d, "third_party_sale_reported")
    assert reported["reported_after_window"] is True
    assert event(d, "transfer_recorded")["buyer_takes"] == "free_and_clear"


def test_a_sale_after_the_window_reported_late_is_refused_and_the_right_applies() -> None:
    flow = started()
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    r = flow.refused(
        "report_third_party_sale",
        "owner",
        "2026-05-04T09:00",
        {**SALE_ON_LAST_DAY, "sold_at": iso("2026-05-02T00:30")},
    )
    assert r.rule == "FMP §6(d)(iv)" and r.code == "late"
    assert "after the owner's sale window closed 2026-05-01 23:59 PDT" in r.reason
    assert "new Disposition Notice" in r.reason
    assert "30-day exercise period ended 2026-04-01 + 30 days" in r.reason


def test_a_timely_exercise_entered_after_both_windows_closed_still_counts() -> None:
    flow = started()
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    d = flow.send(
        "exercise_rofr", "company", "2026-05-04T09:00", {"notice": delivered("2026-04-01T16:00")}
    )
    assert flow.state == "closing" and event(d, "rofr_exercised")["entered_after_deadline"]
    # The closing deadline (30 days after the exercise) had passed by the time time was known
    # to have reached 2026-05-01 (the sale window's end): its passing is recorded at once.
    assert flow.data["deadlines"]["closing_deadline"]["at"] == iso("2026-05-01T23:59:59.999999")
    assert "closing_deadline_passed" in types(d) and "closing_deadline" not in flow.timers
    late = started()
    late.fire("election_deadline")
    late.fire("sale_window_end")
    r = late.refused(
        "exercise_rofr", "company", "2026-05-04T09:00", {"notice": delivered("2026-04-02T09:00")}
    )
    assert r.rule == "FMP §6(d)(iii)" and r.code == "late"


def test_a_new_notice_after_reattachment_is_judged_on_its_own() -> None:
    flow = started()
    flow.send(
        "waive_rofr", "company", "2026-03-05T12:00", {"notice": delivered("2026-03-05T10:00")}
    )
    flow.fire("sale_window_end")
    assert flow.state == "rofr_reattached"
    flow.send(
        "deliver_transfer_notice",
        "owner",
        "2026-06-01T10:00",
        fmp_notice(notice=delivered("2026-06-01T10:00")),
    )
    assert flow.state == "election_window"
    assert flow.deadline("election_deadline") == at("2026-07-01T23:59:59.999999")
    assert "waived" not in flow.data and flow.data["elections"] == []
    assert flow.data["previous_notices"][0]["outcome"] == "rofr_reattached"
    assert flow.data["previous_notices"][0]["waived"]["by"]["party"] == "company"
    # the waiver of the first notice does not carry over to the second
    flow.send(
        "exercise_rofr", "company", "2026-06-10T12:00", {"notice": delivered("2026-06-10T09:00")}
    )
    assert flow.state == "closing"
    # A sale under the first notice made inside its window (2026-05-01) but reported only now
    # stands: judged by when it took effect, it came before the second notice, which it voids.
    d = flow.send("report_third_party_sale", "owner", "2026-06-11T09:00", SALE_ON_LAST_DAY)
    assert flow.state == "sold_to_third_party"
    voided = [e["fact"].get("command") for e in (x.payload for x in d.events) if "fact" in e]
    assert "deliver_transfer_notice" in voided and "exercise_rofr" in voided


def test_only_the_company_or_its_assignees_may_exercise() -> None:
    flow = started()
    r = flow.refused(
        "exercise_rofr", "owner", "2026-03-20T12:00", {"notice": delivered("2026-03-20T09:00")}
    )
    assert r.rule == "FMP §6(d)(iii), §16(c)" and r.code == "not_authorised"
    r = flow.refused(
        "exercise_rofr",
        "assignee",
        "2026-03-20T12:00",
        {"notice": delivered("2026-03-20T09:00")},
        actor="Fund LP",
    )
    assert r.rule == "FMP §16(c)"
    d = flow.send("assign_rofr", "company", "2026-03-19T12:00", {"assignee": "Fund LP"})
    assert event(d, "rofr_assigned")["clause"] == "FMP §16(c)"
    d = flow.send(
        "exercise_rofr",
        "assignee",
        "2026-03-20T12:00",
        {"notice": delivered("2026-03-20T09:00")},
        actor="Fund LP",
    )
    assert flow.state == "closing"
    assert event(d, "rofr_exercised")["by"]["name"] == "Fund LP"


def test_a_notice_needs_proof_a_price_and_an_allowed_delivery_method() -> None:
    flow = Flow(FMP)
    r = flow.refused(
        "deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice(compliance_proof="")
    )
    assert r.rule == "FMP §6(d)(ii)(2)"
    r = flow.refused(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T10:00",
        fmp_notice(consideration={"form": "cash"}),
    )
    assert r.rule == "FMP §6(d)(ii)"
    r = flow.refused(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T10:00",
        fmp_notice(notice=delivered("2026-03-02T09:00", "email")),
    )
    assert r.rule == "FMP §16(b)"
    r = flow.refused(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T10:00",
        fmp_notice(subject_to_repurchase_right=True),
    )
    assert r.rule == "FMP §6(b)(i)"
    r = flow.refused("deliver_transfer_notice", "company", "2026-03-02T10:00", fmp_notice())
    assert r.rule == "FMP §6(d)(ii)" and r.code == "not_authorised"


def test_a_notice_delivered_in_the_future_is_refused() -> None:
    flow = Flow(FMP)
    r = flow.refused("deliver_transfer_notice", "owner", "2026-03-01T10:00", fmp_notice())
    assert r.code == "invalid_payload" and "future" in r.reason


def test_waiver_opens_the_sale_window_at_once() -> None:
    flow = started()
    d = flow.send(
        "waive_rofr", "company", "2026-03-05T12:00", {"notice": delivered("2026-03-05T10:00")}
    )
    assert flow.state == "owner_sale_window"
    assert types(d) == ["rofr_waived", "sale_window_opened"]
    assert flow.deadline("sale_window_end") == at("2026-05-01T23:59:59.999999")
    d = flow.send(
        "report_third_party_sale",
        "owner",
        "2026-03-10T12:00",
        {
            "buyer": {"name": "Eve"},
            "shares": 1000,
            "total": "2500",
            "sold_at": iso("2026-03-09T10:00"),
        },
    )
    assert flow.state == "sold_to_third_party"
    r = Flow(FMP)
    r.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    r.send("waive_rofr", "company", "2026-03-05T12:00", {"notice": delivered("2026-03-05T10:00")})
    refusal = r.refused(
        "exercise_rofr", "company", "2026-03-06T12:00", {"notice": delivered("2026-03-06T10:00")}
    )
    assert refusal.rule == "FMP §6(d)(iii)"


def test_a_stale_timer_changes_nothing() -> None:
    flow = started()
    stale = TimerFired("election_deadline", at("2026-03-30T23:59:59"))
    d = ROFR.decide(flow.state, flow.data, stale, at("2026-03-31T00:00"), flow.terms)
    assert d.state == "election_window" and d.events == () and d.data == flow.data


def test_an_unknown_command_is_refused_with_the_known_ones() -> None:
    flow = started()
    r = flow.refused("buy_everything", "company", "2026-03-05T12:00", {})
    assert r.code == "unknown_command" and "exercise_rofr" in r.reason


def test_a_redelivered_timer_after_reattachment_changes_nothing() -> None:
    flow = started()
    election = flow.timers["election_deadline"].deadline.at
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    again = TimerFired("election_deadline", election)
    d = ROFR.decide(flow.state, flow.data, again, election, flow.terms)
    assert d.state == "rofr_reattached" and d.events == ()
