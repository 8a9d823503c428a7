"""The notice of exercise, judged against the grant's facts on the day it took effect.

FMP §4(a): a written notice in the form of Exhibit A (signed in the holder's name as on the
face of the Option, irrevocable) stating the Purchased Shares, with payment, delivered as §16(b)
provides. RD ISO ¶4(b): a written notice signed by the Optionee stating the election, the shares
and the representations, delivered in person or by certified or registered mail to the Chief
Financial Officer, with full payment, before the option terminates. Then: no more than is
exercisable (FMP §3(a); RD ISO ¶4(a)), not expired (FMP §2; RD ISO ¶6), inside any
post-termination window (FMP §5; RD ISO ¶7), the securities laws satisfied (FMP §3(b); RD ISO
¶4(f)), exercised only by the optionee or their representative (FMP §16(d); RD ISO ¶5), and
while an S corporation, not by a person ineligible to hold its stock (FMP §16(d)).
"""

from __future__ import annotations

from workflows.exercise import commands as c
from workflows.exercise.context import Ctx, Step, money
from workflows.exercise.facts import ExerciseFacts
from workflows.exercise.payment import after_notice, check_open, evaluate
from workflows.kernel import Event, Party, Refused
from workflows.kit.clauses import enforces
from workflows.notices import EffectiveNotice


@enforces(
    "option_exercise.notice.methods",
    "option_exercise.notice.name",
    "option_exercise.notice.recipient",
)
def _effective(ctx: Ctx, cmd: c.DeliverExerciseNotice) -> EffectiveNotice:
    n = ctx.ex.notice
    if cmd.notice.method not in n.methods.value:
        raise Refused(
            n.methods.clause,
            f"the {n.name.value} must be delivered to {n.recipient.value} "
            f"by {', '.join(n.methods.value)}; not by {cmd.notice.method!r}",
        )
    return ctx.notice("exercise_notice", n.name.clause)


@enforces(
    "option_exercise.notice.signed",
    "option_exercise.notice.signature_conforms_to_name",
    "option_exercise.notice.representations",
)
def _check_form(ctx: Ctx, cmd: c.DeliverExerciseNotice, facts: ExerciseFacts) -> None:
    n = ctx.ex.notice
    who = cmd.exercised_by
    if (
        n.signature_conforms_to_name.value
        and who.capacity == "optionee"
        and " ".join(who.name.split()).casefold() != " ".join(facts.optionee.split()).casefold()
    ):
        raise Refused(
            n.signature_conforms_to_name.clause,
            f"the signature must conform to the holder's name on the face of the option "
            f"({facts.optionee!r}); signed {who.name!r}",
        )
    missing = [r for r in n.representations.value if r not in cmd.representations]
    if missing:
        raise Refused(
            n.representations.clause,
            f"the {n.name.value} must carry the representations: {', '.join(missing)}",
        )


@enforces("option_exercise.exercisers")
def _check_exerciser(ctx: Ctx, cmd: c.DeliverExerciseNotice, facts: ExerciseFacts) -> None:
    rules = ctx.ex.exercisers
    who = cmd.exercised_by
    allowed = rules.during_life if facts.optionee_living else rules.after_death
    if who.capacity not in allowed.value:
        when = "during the optionee's life" if facts.optionee_living else "after death"
        raise Refused(
            allowed.clause,
            f"{when} the option may be exercised only by: {', '.join(allowed.value)}; "
            f"not by a {who.capacity.replace('_', ' ')}",
            "not_authorised",
        )
    scorp = rules.s_corporation_eligibility
    if scorp.value and facts.s_corporation and who.capacity != "optionee":
        if who.s_corporation_eligible is not True:
            raise Refused(
                scorp.clause,
                "while the Company is an S corporation the option may not pass to, or be "
                "exercised by, a person ineligible to hold S-corporation stock: confirm "
                "exercised_by.s_corporation_eligible",
            )


@enforces("option_exercise.securities_law", "option_exercise.exercisable")
def _check_grant(ctx: Ctx, cmd: c.DeliverExerciseNotice, facts: ExerciseFacts) -> None:
    ex = ctx.ex
    cleared = facts.securities_law
    if cleared is None or cleared.basis not in ex.securities_law.value:
        bases = " or ".join(b.replace("_", " ") for b in ex.securities_law.value)
        raise Refused(
            ex.securities_law.clause,
            f"the option may not be exercised until the securities laws are satisfied ({bases})",
            "securities_law",
        )
    if cmd.shares > facts.exercisable:
        raise Refused(
            ex.exercisable.clause,
            f"only {facts.exercisable} shares are exercisable on {facts.as_of} "
            f"({facts.vested} vested, {facts.exercised} already exercised); "
            f"the notice asks for {cmd.shares}",
            "not_exercisable",
        )


@enforces("option_exercise.investment_intent.statement_while_unregistered")
def _investment_letter(
    ctx: Ctx, cmd: c.DeliverExerciseNotice, facts: ExerciseFacts
) -> dict[str, object]:
    rule = ctx.ex.investment_intent.statement_while_unregistered
    required = rule.value and not facts.registered_under_securities_act
    letter: dict[str, object] = {"required": required}
    if required:
        letter["clause"] = rule.clause
        letter["reason"] = "the shares are not registered under the Securities Act"
        if cmd.investment_statement:
            letter["delivered_at"] = ctx.data["notice"]["effective_at"]
    return letter


def deliver_exercise_notice(ctx: Ctx) -> Step:
    cmd = ctx.typed(c.DeliverExerciseNotice)
    notice = _effective(ctx, cmd)
    facts = cmd.facts
    on = ctx.day(notice.at)
    if facts.as_of != on:
        raise Refused(
            ctx.ex.exercisable.clause,
            f"the grant's facts are as of {facts.as_of}; the notice took effect on {on}: "
            "give the facts on that day",
            "invalid_payload",
        )
    _check_form(ctx, cmd, facts)
    _check_exerciser(ctx, cmd, facts)
    check_open(ctx, facts, notice.at, f"the {ctx.ex.notice.name.value}")
    _check_grant(ctx, cmd, facts)
    payment = evaluate(ctx, cmd.payment, facts, cmd.shares, on)
    ctx.data.update(
        terms_id=ctx.terms.id,
        grant_id=facts.grant_id,
        optionee=facts.optionee,
        exercised_by=cmd.exercised_by.model_dump(mode="json"),
        shares=cmd.shares,
        notice=notice.record(Party.OWNER, ctx.ex.notice.recipient.value),
        facts=facts.model_dump(mode="json"),
        aggregate_price=money(cmd.shares * facts.exercise_price),
        payment=payment,
    )
    ctx.data["investment_letter"] = _investment_letter(ctx, cmd, facts)
    step = after_notice(ctx)
    received = {
        "notice": ctx.data["notice"],
        "grant_id": facts.grant_id,
        "shares": cmd.shares,
        "exercisable": facts.exercisable,
        "aggregate_price": ctx.data["aggregate_price"],
        "exercised_by": ctx.data["exercised_by"],
    }
    step.events.insert(0, Event("exercise_notice_received", received))
    return step
