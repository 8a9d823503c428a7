"""Every command's payload, in OpenAPI and AsyncAPI; a misspelt field refused over HTTP and AMQP.

The same payload model checks a command wherever it comes from: over HTTP a misspelt field is a
422 naming it; over RabbitMQ it is a ``command_refused`` event naming it, with the status HTTP
would give (422), and the workflow does not change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime

import pytest
from test_api_support import Api, api_client, command, disposition_notice

from services.bus.asyncapi import asyncapi_document
from services.bus.runner import delete_topology
from services.bus.serve import bus_services
from services.bus.tap import eventually, tap
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.runtime import Runtime
from services.settings import Settings
from services.store.companies import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows import registry
from workflows.kit.payload import SCHEMA_RULE
from workflows.messages import CommandMessage

ALL_COMMANDS = {
    (workflow_type, name)
    for workflow_type, kind in registry.KINDS.items()
    for name in kind.COMMANDS.payloads()
}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


async def test_openapi_shows_every_commands_payload_in_a_union_on_command(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    post = document["paths"]["/api/v1/companies/{company_id}/commands"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["discriminator"]["propertyName"] == "command"
    mapping = body["discriminator"]["mapping"]
    assert set(mapping) == {name for _, name in ALL_COMMANDS}
    schemas = document["components"]["schemas"]
    for _, name in ALL_COMMANDS:
        envelope = schemas[mapping[name].rsplit("/", 1)[1]]
        payload_ref = envelope["properties"]["payload"]["$ref"].rsplit("/", 1)[1]
        assert schemas[payload_ref]["additionalProperties"] is False, name
    exercise = schemas["ExerciseRofr"]["properties"]
    assert {"notice", "shares", "price_per_share", "payment", "cash_equivalent"} == set(exercise)
    notice = schemas["DeliverTransferNotice"]["properties"]
    assert {"binding_commitment", "signed_by"} <= set(notice)


def test_asyncapi_shows_every_commands_payload_on_its_routing_key() -> None:
    document = asyncapi_document(Topology("ef"))
    addresses = {c["address"] for c in document["channels"].values()}
    assert {f"command.{t}.{name}" for t, name in ALL_COMMANDS} <= addresses
    schemas = document["components"]["schemas"]
    assert "transferee_agreed_in_writing" in schemas["ReportThirdPartySale"]["properties"]
    assert schemas["ExerciseRofr"]["additionalProperties"] is False


async def test_a_misspelt_field_over_http_is_422_naming_it_and_changes_nothing(api: Api) -> None:
    company = await api.register()
    notice = disposition_notice()
    assert (await api.send(company, notice)).status_code == 200
    exercise = command(
        notice["workflow_id"],
        "exercise_rofr",
        "company",
        share=400,
        notice={"method": "personal", "delivered_at": "2026-03-10T10:00:00-07:00"},
    )
    r = await api.send(company, exercise)
    assert r.status_code == 422
    problem = r.json()
    assert (problem["code"], problem["rule"]) == ("invalid_payload", SCHEMA_RULE)
    assert [e["field"] for e in problem["errors"]] == ["payload.share"]
    assert "payload.share" in problem["detail"]
    workflow = (await api.workflow(company, notice["workflow_id"])).json()
    assert (workflow["state"], workflow["version"]) == ("election_window", 1)


async def test_an_unknown_command_over_http_is_422_listing_the_commands(api: Api) -> None:
    company = await api.register()
    r = await api.send(company, {**disposition_notice(), "command": "buy_everything"})
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "unknown_command"
    assert "exercise_rofr" in problem["detail"] and "deliver_transfer_notice" in problem["detail"]


async def test_a_rule_of_the_terms_over_http_is_409_naming_the_clause(api: Api) -> None:
    company = await api.register("raydream-1992-iso")
    notice = disposition_notice(
        transferee={"name": "Dan", "address": "1 Main St"},
        bona_fide_evidence="signed purchase agreement",
        signed_by=[{"party": "owner", "name": "Alice Owner"}],
        binding_commitment=True,
    )
    notice["command"] = "deliver_transfer_notice"
    r = await api.send(company, notice)
    assert r.status_code == 409
    assert (r.json()["rule"], r.json()["code"]) == ("RD ISO ¶11(b)", "refused")


NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


async def test_a_misspelt_field_over_rabbitmq_is_refused_naming_it(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    topology = Topology(namespace)
    workflow_id = uuid.uuid4()
    base = disposition_notice(
        "2026-03-02T09:00:00-08:00", workflow_id=str(workflow_id), message_id="notice-1"
    )
    notice = CommandMessage.model_validate({**base, "company_id": "acme", "terms": "fmp-1998-nso"})
    exercise = CommandMessage.model_validate(
        {
            **command(
                str(workflow_id),
                "exercise_rofr",
                "company",
                share=400,
                notice={"method": "personal", "delivered_at": NOW.isoformat()},
            ),
            "company_id": "acme",
        }
    )
    async with AsyncExitStack() as stack:
        stack.push_async_callback(delete_topology, amqp_url, topology)
        pool = await connect(fresh_database_url)
        stack.push_async_callback(pool.close)
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        await register_company(pool, "acme", "fmp-1998-nso")  # a command never registers one
        settings = Settings().model_copy(
            update={"amqp_url": amqp_url, "database_url": fresh_database_url}
        )
        runtime = Runtime(settings, fresh_database_url, pool, clock, TermsCatalog(), topology)
        bus = await stack.enter_async_context(bus_services(runtime))
        refusals = await stack.enter_async_context(
            tap(amqp_url, topology.events_exchange.name, "event.acme.rofr.command_refused")
        )
        await bus.send_command(notice)

        async def started() -> bool:
            state = await pool.fetchval(
                "SELECT state FROM workflows WHERE workflow_id = $1", workflow_id
            )
            return bool(state == "election_window")

        await eventually(started, within=15)
        await bus.send_command(exercise)
        [message] = await refusals.wait_for(1, within=15)
        refused = json.loads(message.body)["payload"]
        assert (refused["code"], refused["status"], refused["rule"]) == (
            "invalid_payload",
            422,
            SCHEMA_RULE,
        )
        assert "payload.share is not a field" in refused["reason"]
        assert refused["command"] == "exercise_rofr"
        version = await pool.fetchval(
            "SELECT version FROM workflows WHERE workflow_id = $1", workflow_id
        )
        assert version == 1
