"""The notice of exercise, judged against the grant's facts (read from the register under the
grant's lock) on the day it took effect.

FMP §4(a): a written notice in the form of Exhibit A (signed in the holder's name as on the
face of the Option, irrevocable) stating the Purchased Shares, with payment, delivered as §16(b)
provides. RD ISO ¶4(b): a written notice signed by the Optionee stating the election, the shares
and the representations, delivered in person or by certified or registered mail to the Chief
Financial Officer, with full payment, before the option terminates. Then: no more than is
exercisable (FMP §3(a); RD ISO ¶4(a)), not expired (FMP §2; RD ISO ¶6), inside any
post-termination window (FMP §5; RD ISO ¶7), the securities laws satisfied (FMP §3(b); RD ISO
¶4(f)), exercised only by the optionee or their representative (FMP §16(d); RD ISO ¶5), and
while an S corporation, not by a person ineligible to hold its stock (FMP §16(d)). Accepted, the
notice holds its shares of the grant (``data.claim``) until it is rejected or withdrawn: the
exercises of one grant decide one at a time under the grant's lock, and each reads the others'
claims (docs/design.md, "Concurrent exercises of one grant").
"""

from __future__ import annotations

from datetime import date

from workflows.exercise import commands as c
from workflows.exercise.context import Ctx, Step, money
from workflows.exercise.facts import Circumstances
from workflows.exercise.payment import after_notice, check_open, evaluate
from workflows.exercise.termination import judge_after_termination
from workflows.grants.facts import GrantFacts
from workflows.grants.vesting import room, vested
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
    return ctx.notice("exercise_notice", n.name.clause, cmd.notice)


@enforces(
    "option_exercise.notice.signed",
    "option_exercise.notice.signature_conforms_to_name",
    "option_exercise.notice.representations",
)
def _check_form(ctx: Ctx, cmd: c.DeliverExerciseNotice, grant: GrantFacts) -> None:
    n = ctx.ex.notice
    who = cmd.exercised_by
    name = grant.holder_name
    if (
        n.signature_conforms_to_name.value
        and who.capacity == "optionee"
        and " ".join(who.name.split()).casefold() != " ".join(name.split()).casefold()
    ):
        raise Refused(
            n.signature_conforms_to_name.clause,
            f"the signature must conform to the holder's name on the face of the option "
            f"({name!r}); signed {who.name!r}",
        )
    missing = [r for r in n.representations.value if r not in cmd.representations]
    if missing:
        raise Refused(
            n.representations.clause,
            f"the {n.name.value} must carry the representations: {', '.join(missing)}",
        )


@enforces("option_exercise.exercisers")
def _check_exerciser(ctx: Ctx, cmd: c.DeliverExerciseNotice, facts: Circumstances) -> None:
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
    # FMP §16(d): "in the event of death, the Option cannot be transferred to any person who is
    # not eligible to be an S Corporation shareholder": a transferee after death, not a guardian
    # or legal representative acting during the optionee's life.
    scorp = rules.s_corporation_eligibility
    if scorp.value and facts.s_corporation and not facts.optionee_living:
        if who.s_corporation_eligible is not True:
            raise Refused(
                scorp.clause,
                "while the Company is an S corporation the option may not pass on death to, or "
                "be exercised by, a person ineligible to hold S-corporation stock: confirm "
                "exercised_by.s_corporation_eligible",
            )


@enforces("option_exercise.securities_law")
def _check_securities_law(ctx: Ctx, facts: Circumstances) -> None:
    ex = ctx.ex
    cleared = facts.securities_law
    if cleared is None or cleared.basis not in ex.securities_law.value:
        bases = " or ".join(b.replace("_", " ") for b in ex.securities_law.value)
        raise Refused(
            ex.securities_law.clause,
            f"the option may not be exercised until the securities laws are satisfied ({bases})",
            "securities_law",
        )


@enforces("option_exercise.exercisable")
def _check_exercisable(ctx: Ctx, shares: int, grant: GrantFacts, on: date) -> None:
    """No more than is exercisable on the notice's day, the shares acquired and those held for
    the grant's other exercises subtracted (``vesting.room``: FMP §3(a), RD ISO ¶4(a))."""
    free = room(grant, on)
    if shares > free:
        held = f", {grant.reserved} held for exercises under way" if grant.reserved else ""
        raise Refused(
            ctx.ex.exercisable.clause,
            f"only {free} shares are exercisable on {on} ({vested(grant, on)} vested, "
            f"{grant.exercised} already exercised{held}); the notice asks for {shares}",
            "not_exercisable",
        )


def _check_fmv(ctx: Ctx, facts: Circumstances, on: date) -> None:
    if facts.fair_market_value.effective_on > on:
        raise Refused(
            ctx.ex.payment.forms["shares"].clause,
            f"the fair market value given was determined on {facts.fair_market_value.effective_on}"
            f", after the notice took effect ({on}): give the determination in force then",
            "invalid_payload",
        )


@enforces("option_exercise.investment_intent.statement_while_unregistered")
def _investment_letter(
    ctx: Ctx, cmd: c.DeliverExerciseNotice, facts: Circumstances
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


def deliver_exercise_notice(ctx: Ctx, cmd: c.DeliverExerciseNotice) -> Step:
    notice = _effective(ctx, cmd)
    grant, facts = ctx.grant(cmd.grant), cmd.circumstances
    on = ctx.local_day(notice.at)
    _check_fmv(ctx, facts, on)
    _check_form(ctx, cmd, grant)
    _check_exerciser(ctx, cmd, facts)
    check_open(ctx, grant, notice.at, f"the {ctx.ex.notice.name.value}")
    judge_after_termination(ctx, notice.at, f"the {ctx.ex.notice.name.value}", (cmd.shares, grant))
    _check_securities_law(ctx, facts)
    _check_exercisable(ctx, cmd.shares, grant, on)
    payment = evaluate(ctx, cmd.payment, facts, grant.exercise_price, cmd.shares, on)
    ctx.data.update(
        terms_id=ctx.terms.id,
        grant=grant.grant_id,
        optionee=grant.optionee,
        exercised_by=cmd.exercised_by.model_dump(mode="json"),
        shares=cmd.shares,
        notice=notice.record(Party.OWNER, ctx.ex.notice.recipient.value),
        circumstances=facts.model_dump(mode="json"),
        claim={"shares": cmd.shares, "on": on.isoformat()},
        aggregate_price=money(cmd.shares * grant.exercise_price),
        payment=payment,
    )
    ctx.data["investment_letter"] = _investment_letter(ctx, cmd, facts)
    step = after_notice(ctx)
    received = {
        "notice": ctx.data["notice"],
        "grant_id": grant.grant_id,
        "shares": cmd.shares,
        "exercisable": room(grant, on),
        "aggregate_price": ctx.data["aggregate_price"],
        "exercised_by": ctx.data["exercised_by"],
    }
    step.events.insert(0, Event("exercise_notice_received", received))
    return step
