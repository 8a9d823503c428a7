"""The typed command contract: one payload model per command, and 422 versus 409.

A payload that breaks its command's model is malformed in any state (422, ``invalid_payload``,
naming the field); a rule of the terms refuses a well-formed command (409, naming the clause).
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from test_rofr_harness import Flow, delivered, fmp_notice, rd_notice

from workflows import registry
from workflows.kernel import refusal_status
from workflows.kit.payload import SCHEMA_RULE, Payload

RD = "raydream-1992-iso"


def test_every_command_of_every_kind_has_a_payload_model_that_forbids_unknown_fields() -> None:
    seen: set[str] = set()
    for kind in registry.KINDS.values():
        payloads = kind.COMMANDS.payloads()
        assert set(kind.COMMANDS.names) <= set(payloads)
        for name, model in payloads.items():
            assert issubclass(model, Payload), name
            assert model.model_config.get("extra") == "forbid", name
            for field in model.model_fields.values():  # nested objects forbid them too
                nested = getattr(field.annotation, "__args__", (field.annotation,))
                for t in nested:
                    if isinstance(t, type) and issubclass(t, BaseModel):
                        assert t.model_config.get("extra") == "forbid", (name, t)
        assert not seen & set(payloads), "command names are unique across kinds"
        seen |= set(payloads)


# -- finding 1: a misspelt field was ignored, and the exercise taken as one of all the shares ----


def test_a_misspelt_payload_field_is_refused_naming_it_and_changes_nothing() -> None:
    flow = Flow("fmp-1998-nso")
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", fmp_notice())
    r = flow.refused(  # the harness checks that state and data are unchanged
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"share": 400, "notice": delivered("2026-03-10T09:00")},
    )
    assert (r.rule, r.code, refusal_status(r.code)) == (SCHEMA_RULE, "invalid_payload", 422)
    assert "payload.share is not a field" in r.reason and "did you mean 'shares'?" in r.reason
    assert flow.state == "election_window"


def test_a_misspelt_nested_field_is_refused_naming_its_path() -> None:
    notice = fmp_notice(notice={"method": "personal", "delivred_at": "2026-03-02T10:00:00-08:00"})
    r = Flow("fmp-1998-nso").refused("deliver_transfer_notice", "owner", "2026-03-02T12:00", notice)
    assert r.code == "invalid_payload" and "payload.notice.delivred_at" in r.reason
    assert "did you mean 'delivered_at'?" in r.reason


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("shares", "400", "valid integer"),
        ("shares", 0, "greater than 0"),
        ("shares", True, "valid integer"),
        ("price_per_share", "cheap", "decimal"),
        ("price_per_share", "-1", "greater than or equal to 0"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_saying_what_was_expected(
    field: str, value: object, expected: str
) -> None:
    flow = Flow(RD)
    flow.send(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(transfer_type="gift")
    )
    payload = {"notice": delivered("2026-03-10T09:00"), field: value}
    r = flow.refused("exercise_rofr", "company", "2026-03-10T12:00", payload)
    assert r.code == "invalid_payload" and f"payload.{field}" in r.reason
    assert expected in r.reason.lower()


# -- finding 2: rules of the terms are 409, an unknown command 422 -----------------------------


def test_all_but_not_less_than_all_is_a_rule_refusal_citing_rd_11d() -> None:
    flow = Flow(RD)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    r = flow.refused(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 200, "notice": delivered("2026-03-10T09:00")},
    )
    assert r.rule == "RD ISO ¶11(d)" and refusal_status(r.code) == 409


def test_two_transferees_in_one_notice_is_a_rule_refusal_citing_rd_11b() -> None:
    two = [{"name": "Dan", "address": "1 Main St"}, {"name": "Erin", "address": "2 Main St"}]
    r = Flow(RD).refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(transferees=two)
    )
    assert r.rule == "RD ISO ¶11(b)" and refusal_status(r.code) == 409


def test_a_notice_without_the_transferees_signature_is_a_rule_refusal_citing_rd_11b() -> None:
    alone = [{"party": "owner", "name": "Carol Optionee"}]
    r = Flow(RD).refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(signed_by=alone)
    )
    assert r.rule == "RD ISO ¶11(b)" and refusal_status(r.code) == 409
    assert "missing: transferee" in r.reason


def test_an_unknown_command_is_422_listing_the_commands_of_the_kind() -> None:
    flow = Flow("fmp-1998-nso")
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", fmp_notice())
    r = flow.refused("exercise_rofrs", "company", "2026-03-10T12:00", {})
    assert (r.rule, r.code, refusal_status(r.code)) == (SCHEMA_RULE, "unknown_command", 422)
    assert "exercise_rofr, waive_rofr" in r.reason


def test_refusal_codes_map_to_one_status_each() -> None:
    assert {c: refusal_status(c) for c in ("invalid_payload", "unknown_command", "malformed")} == {
        "invalid_payload": 422,
        "unknown_command": 422,
        "malformed": 422,
    }
    for code in ("refused", "wrong_state", "late", "not_authorised", "terms_mismatch"):
        assert refusal_status(code) == 409
    assert refusal_status("not_found") == 404


# -- finding 3: the fields RD ISO ¶11(b) requires ----------------------------------------------


def test_rd_notice_must_be_a_binding_commitment() -> None:
    r = Flow(RD).refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(binding_commitment=False)
    )
    assert r.rule == "RD ISO ¶11(b)" and "binding commitment" in r.reason
    assert refusal_status(r.code) == 409


def test_the_signers_are_recorded_by_name() -> None:
    flow = Flow(RD)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    assert flow.data["signed_by"] == [
        {"party": "owner", "name": "Carol Optionee"},
        {"party": "transferee", "name": "Dan Transferee"},
    ]
    assert flow.data["binding_commitment"] is True
    nameless = [{"party": "owner"}, {"party": "transferee", "name": "Dan Transferee"}]
    r = Flow(RD).refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(signed_by=nameless)
    )
    assert r.code == "invalid_payload" and "payload.signed_by.0.name" in r.reason


def test_what_the_terms_do_not_provide_is_a_rule_refusal_not_a_malformed_command() -> None:
    # FMP §6(d)(ii) provides a notice of a sale only: a gift is well formed, and refused by rule.
    r = Flow("fmp-1998-nso").refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", fmp_notice(transfer_type="gift")
    )
    assert r.rule.startswith("FMP §6(d)") and refusal_status(r.code) == 409
    # A transfer type no agreement knows is malformed whatever the terms.
    r = Flow("fmp-1998-nso").refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", fmp_notice(transfer_type="swap")
    )
    assert r.code == "invalid_payload" and "payload.transfer_type" in r.reason


def test_a_company_nobody_registered_is_not_found_over_http_and_amqp_alike() -> None:
    # One mapping: the 404 HTTP answers is the status of the AMQP refusal for the same code.
    assert refusal_status("unregistered_company") == refusal_status("not_found") == 404
