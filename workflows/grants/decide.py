"""The grant on the kit: its command table, chart, timer rule and parties; ``decide`` is the
kit's, with the facts the engine loaded for it (``GrantingFacts``) handed to the context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import Any

from pydantic import BaseModel, ValidationError

from workflows.grants import commands as c
from workflows.grants import rules, timeline
from workflows.grants.context import Ctx, Step
from workflows.grants.data import SCHEMA
from workflows.grants.facts import GrantingFacts
from workflows.grants.machine import CHART
from workflows.kernel import Command, Decision, Message, Refused
from workflows.kit.clauses import enforces
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.dispatch import Kind
from workflows.kit.parties import authorise
from workflows.kit.reconcile import ReconcileItem, not_an_act
from workflows.reads import FmvOn, PlanOf, Reads
from workflows.terms import Terms
from workflows.terms.grant import GrantTerms

enforces("grant.parties")(authorise)
enforces("grant")(Kind.decide)

#: The facts of other workflows a grant reads; the engine's register view loads them.
FACTS = GrantingFacts
FACTS_RULE = "equityflow register view"

RECONCILE = "reconcile_grant"

COMMANDS: CommandTable[Ctx, Step] = CommandTable(
    "grant",
    {
        "grant_option": Spec(c.GrantOption, rules.grant_option),
        "record_leave": Spec(c.RecordLeave, rules.record_leave),
        # Bookkeeping the kit does itself (workflows.kit.reconcile): never a rule of the chart.
        RECONCILE: Spec(ReconcileItem, not_an_act),
        "record_grant_termination": Spec(c.RecordTermination, rules.record_grant_termination),
        "record_exercised_shares": Spec(c.RecordExercisedShares, rules.record_exercised_shares),
    },
)
KIND: Kind[Ctx] = Kind(
    context=Ctx,
    commands=COMMANDS,
    chart=CHART,
    timer_rules=(rules.on_timer,),
    parties=lambda ctx: ctx.grant.parties,
    data=SCHEMA,
    terms_section=GrantTerms,
    effective=timeline.EFFECTIVE,
    ranks=timeline.RANKS,
    reconcile_command=RECONCILE,
    internal=frozenset({"record_grant_termination", "record_exercised_shares"}),
)


def reads(state: str | None, data: Mapping[str, Any], message: Message) -> Reads:
    """A new grant reads the Board's FMV in force on its grant date and its plan's shares
    committed (RD Plan ¶4, ¶6(A)); nothing else a grant does reads other workflows."""
    if not isinstance(message, Command) or message.name != "grant_option" or state not in (
        None, "new"
    ):  # fmt: skip
        return None
    try:
        on = date.fromisoformat(str(message.payload["grant_date"]))
        plan = str(message.payload["plan"])
    except (KeyError, ValueError):
        return None  # a malformed payload: refused by its model before any fact is read
    return {"fmv": FmvOn(on), "plan": PlanOf(plan)}


def read_facts(model: type[BaseModel], facts: BaseModel | Mapping[str, Any] | None) -> Any:
    """``facts`` as ``model``; facts that do not fit are the engine's fault, refused as such."""
    if facts is None or isinstance(facts, model):
        return facts
    try:
        return model.model_validate(facts if isinstance(facts, Mapping) else facts.model_dump())
    except ValidationError as e:
        fields = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise Refused(FACTS_RULE, f"the facts loaded for this workflow are unreadable: {fields}",
                      "unreadable_facts") from None  # fmt: skip


def decide(
    state: str | None,
    data: Mapping[str, Any],
    message: Message,
    now: datetime,
    terms: Terms | Mapping[str, Any],
    facts: GrantingFacts | Mapping[str, Any] | None = None,
) -> Decision:
    kind = replace(KIND, context=partial(Ctx, facts=read_facts(GrantingFacts, facts)))
    return kind.decide(state, data, message, now, terms)
