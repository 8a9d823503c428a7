"""FMP §6(d)(v): the Company elects only part; the owner chooses (A) or (B); silence means (A)."""

from __future__ import annotations

from test_rofr_harness import Flow, at, delivered, event, fmp_notice, iso, mailed, types

FMP = "fmp-1998-nso"


def partly_exercised() -> Flow:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 400, "notice": delivered("2026-03-10T09:00")},
    )
    assert flow.state == "owner_choice"
    assert event(d, "rofr_exercised")["scope"] == "part"
    assert types(d) == ["rofr_exercised", "owner_choice_window_opened"]
    return flow


def test_a_partial_exercise_gives_the_owner_30_days_from_the_notice_date() -> None:
    flow = partly_exercised()
    timer = flow.timers["owner_choice_deadline"]
    assert timer.deadline.at == at("2026-04-01T23:59:59.999999")
    assert timer.deadline.clause == "FMP §6(d)(v)"
    assert timer.party == "owner"
    assert "election_deadline" in flow.timers  # the company may still elect the rest


def test_choosing_b_sells_the_elected_part_to_the_company() -> None:
    flow = partly_exercised()
    d = flow.send(
        "choose_sale_alternative",
        "owner",
        "2026-03-15T12:00",
        {"alternative": "sale_to_company", "notice": delivered("2026-03-15T10:00")},
    )
    assert flow.state == "closing"
    chosen = event(d, "sale_alternative_chosen")
    assert (chosen["alternative"], chosen["deemed"]) == ("sale_to_company", False)
    assert chosen["notice"]["kind"] == "owner_choice_notice"
    assert flow.data["purchase_shares"] == 400
    assert flow.deadline("closing_deadline") == at("2026-04-09T23:59:59.999999")


def test_choosing_a_opens_the_sale_window_after_the_election_period() -> None:
    flow = partly_exercised()
    flow.send(
        "choose_sale_alternative",
        "owner",
        "2026-03-15T12:00",
        {"alternative": "third_party_sale", "notice": delivered("2026-03-15T10:00")},
    )
    assert flow.state == "owner_sale_window"
    assert flow.data["sale_window"]["opens_at"] == at("2026-04-01T23:59:59.999999").isoformat()
    assert flow.deadline("sale_window_end") == at("2026-05-01T23:59:59.999999")


def test_silence_is_deemed_a_choice_of_the_third_party_sale() -> None:
    flow = partly_exercised()
    d = flow.fire("owner_choice_deadline")
    assert flow.state == "owner_sale_window"
    chosen = event(d, "sale_alternative_chosen")
    assert (chosen["alternative"], chosen["deemed"], chosen["clause"]) == (
        "third_party_sale",
        True,
        "FMP §6(d)(v)",
    )
    # The company's 30 days end at the same instant (2026-04-01): time has come to both.
    assert "election_window_expired" in types(d) and "election_deadline" not in flow.timers
    d = flow.send(
        "report_third_party_sale",
        "owner",
        "2026-04-10T12:00",
        {
            "buyer": {"name": "Bob Buyer"},
            "shares": 1000,
            "price_per_share": "2.50",
            "sold_at": iso("2026-04-10T10:00"),
        },
    )
    assert flow.state == "sold_to_third_party"


def test_a_timely_choice_entered_after_silence_was_deemed_still_counts() -> None:
    flow = partly_exercised()
    flow.fire("owner_choice_deadline")
    flow.send(
        "choose_sale_alternative",
        "owner",
        "2026-04-03T12:00",
        {"alternative": "sale_to_company", "notice": delivered("2026-04-01T15:00")},
    )
    assert flow.state == "closing"
    assert "sale_window_end" not in flow.timers


def test_a_late_choice_is_refused() -> None:
    flow = partly_exercised()
    flow.fire("owner_choice_deadline")
    r = flow.refused(
        "choose_sale_alternative",
        "owner",
        "2026-04-03T12:00",
        {"alternative": "sale_to_company", "notice": delivered("2026-04-02T09:00")},
    )
    assert r.rule == "FMP §6(d)(v)" and r.code == "late"


def test_the_company_may_elect_the_rest_within_its_window() -> None:
    flow = partly_exercised()
    r = flow.refused(
        "exercise_rofr",
        "company",
        "2026-03-20T12:00",
        {"shares": 700, "notice": delivered("2026-03-20T09:00")},
    )
    assert r.rule == "FMP §6(d)(iii)" and "600" in r.reason
    d = flow.send(
        "exercise_rofr", "company", "2026-03-20T12:00", {"notice": delivered("2026-03-20T09:00")}
    )
    assert flow.state == "closing"
    assert event(d, "rofr_exercised")["elected_shares"] == 1000
    assert "owner_choice_deadline" in d.cancel_timers


def test_only_the_owner_chooses() -> None:
    flow = partly_exercised()
    r = flow.refused(
        "choose_sale_alternative",
        "company",
        "2026-03-15T12:00",
        {"alternative": "sale_to_company", "notice": delivered("2026-03-15T10:00")},
    )
    assert r.rule == "FMP §6(d)(v)" and r.code == "not_authorised"


def test_the_owners_30_days_run_from_the_date_on_the_notice_not_its_receipt() -> None:
    flow = Flow(FMP)
    notice = {
        "method": "certified_mail",
        "deposited_at": iso("2026-02-27T09:00"),
        "dated": "2026-02-27",
    }
    flow.send("deliver_transfer_notice", "owner", "2026-03-03T10:00", fmp_notice(notice=notice))
    assert flow.deadline("election_deadline") == at("2026-04-01T23:59:59.999999")  # from receipt
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 400, "notice": delivered("2026-03-10T09:00")},
    )
    timer = flow.timers["owner_choice_deadline"]
    assert timer.deadline.at == at("2026-03-29T23:59:59.999999")
    assert "the date on the notice" in timer.deadline.derivation
    flow.fire("owner_choice_deadline")
    window = flow.timers["sale_window_end"].deadline
    assert window.at == at("2026-05-01T23:59:59.999999")
    assert [p.clause for p in window.parts] == ["FMP §6(d)(iii)"]  # it runs from the election end


def test_a_notice_dated_after_it_was_delivered_is_refused() -> None:
    flow = Flow(FMP)
    notice = {**delivered("2026-03-02T10:00"), "dated": "2026-03-04"}
    r = flow.refused(
        "deliver_transfer_notice", "owner", "2026-03-05T10:00", fmp_notice(notice=notice)
    )
    assert r.rule == "FMP §6(d)(v)" and r.code == "invalid_payload"
    assert "dated 2026-03-04, after it was delivered on 2026-03-02" in r.reason


def dated_long_before_receipt() -> Flow:
    # dated 2026-02-01, delivered 2026-03-02: the owner's 30 days end 2026-03-03, while the
    # company's 30 days after receipt run to 2026-04-01
    flow = Flow(FMP)
    notice = {**delivered("2026-03-02T10:00"), "dated": "2026-02-01"}
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice(notice=notice))
    return flow


def test_a_part_exercise_after_the_owners_window_closed_is_deemed_a_choice_of_a() -> None:
    flow = dated_long_before_receipt()
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 400, "notice": delivered("2026-03-10T09:00")},
    )
    assert flow.state == "owner_sale_window"
    assert types(d) == ["rofr_exercised", "sale_alternative_chosen", "sale_window_opened"]
    chosen = event(d, "sale_alternative_chosen")
    assert (chosen["alternative"], chosen["deemed"], chosen["clause"]) == (
        "third_party_sale",
        True,
        "FMP §6(d)(v)",
    )
    assert chosen["deadline"]["at"] == at("2026-03-03T23:59:59.999999").isoformat()
    assert "Disposition Notice dated 2026-02-01 + 30 days" in chosen["deadline"]["derivation"]
    assert "owner_choice_deadline" not in flow.timers
    assert flow.deadline("sale_window_end") == at("2026-05-01T23:59:59.999999")
    r = flow.refused(
        "choose_sale_alternative",
        "owner",
        "2026-03-11T12:00",
        {"alternative": "sale_to_company", "notice": delivered("2026-03-11T10:00")},
    )
    assert r.rule == "FMP §6(d)(v)" and r.code == "late"
    # the company's own window still runs: it may elect the rest and buy all
    flow.send(
        "exercise_rofr", "company", "2026-03-20T12:00", {"notice": delivered("2026-03-20T09:00")}
    )
    assert flow.state == "closing" and flow.data["elected_shares"] == 1000


def test_a_late_entered_part_exercise_after_both_windows_keeps_the_sale_window() -> None:
    flow = dated_long_before_receipt()
    flow.fire("election_deadline")
    assert flow.state == "owner_sale_window"
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-04-02T12:00",
        {"shares": 400, "notice": delivered("2026-04-01T09:00")},
    )
    assert flow.state == "owner_sale_window"
    assert "sale_window_end" not in d.cancel_timers
    assert flow.deadline("sale_window_end") == at("2026-05-01T23:59:59.999999")
    assert event(d, "sale_alternative_chosen")["deemed"] is True


def test_an_undated_mailed_notice_is_dated_the_day_it_was_mailed() -> None:
    flow = Flow(FMP)
    notice = mailed("2026-02-27T09:00")  # effective 2026-03-02 09:00 (FMP §16(b)(1))
    flow.send("deliver_transfer_notice", "owner", "2026-03-03T10:00", fmp_notice(notice=notice))
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 400, "notice": delivered("2026-03-10T09:00")},
    )
    timer = flow.timers["owner_choice_deadline"].deadline
    assert timer.at == at("2026-03-29T23:59:59.999999")
    assert "undated: taken as the day it was given" in timer.derivation


def chose_b() -> Flow:
    flow = partly_exercised()  # 400 of the 1000 elected on 2026-03-10
    flow.send(
        "choose_sale_alternative",
        "owner",
        "2026-03-15T12:00",
        {"alternative": "sale_to_company", "notice": delivered("2026-03-15T10:00")},
    )
    assert flow.state == "closing"
    return flow


def test_after_choosing_b_a_further_election_is_refused_as_closed_by_that_choice() -> None:
    flow = chose_b()
    # Still inside the company's 30 days (to 2026-04-01), but the owner's (B) closed the election.
    for command, payload in (
        ("exercise_rofr", {"shares": 100, "notice": delivered("2026-03-16T09:00")}),
        ("waive_rofr", {"notice": delivered("2026-03-16T09:00")}),
    ):
        r = flow.refused(command, "company", "2026-03-16T12:00", payload)
        assert r.rule == "FMP §6(d)(v)" and r.code == "wrong_state"
        assert r.reason == (
            "the owner chose to sell the elected 400 of the 1000 shares to the company under "
            "FMP §6(d)(v)(B); the election is closed"
        )
    r = flow.refused(
        "choose_sale_alternative",
        "owner",
        "2026-03-16T12:00",
        {"alternative": "third_party_sale", "notice": delivered("2026-03-16T10:00")},
    )
    assert r.rule == "FMP §6(d)(v)" and "already chose (B)" in r.reason


def test_after_a_full_exercise_a_further_election_says_all_the_shares_are_taken() -> None:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send(
        "exercise_rofr", "company", "2026-03-10T12:00", {"notice": delivered("2026-03-10T09:00")}
    )
    r = flow.refused(
        "exercise_rofr", "company", "2026-03-11T12:00", {"notice": delivered("2026-03-11T09:00")}
    )
    assert r.rule == "FMP §6(d)(iii)"
    assert r.reason == "the right was already exercised for all the 1000 shares"


def test_no_sale_and_no_choice_out_of_turn() -> None:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    choice = {"alternative": "sale_to_company", "notice": delivered("2026-03-05T10:00")}
    r = flow.refused("choose_sale_alternative", "owner", "2026-03-05T12:00", choice)
    assert r.rule == "FMP §6(d)(v)" and "only after the company exercises" in r.reason
    flow = partly_exercised()
    r = flow.refused(
        "report_third_party_sale",
        "owner",
        "2026-03-20T12:00",
        {
            "buyer": {"name": "Eve"},
            "shares": 1000,
            "price_per_share": "2.50",
            "sold_at": iso("2026-03-20T10:00"),
        },
    )
    assert r.rule == "FMP §6(d)(iv)" and r.code == "too_early"
    assert "the owner first chooses, by 2026-04-01 23:59 PDT" in r.reason
