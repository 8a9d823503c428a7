"""What the owner's choice of alternative (A) binds, after the company elected only part.

FMP §6(d)(v): after a timely exercise for part of the Target Shares, the owner effects "the sale
of the Target Shares pursuant to one of the following alternatives": (A) "sale or other
disposition of all the Target Shares to a third-party purchaser in compliance with the
requirements of section 6(d)(iv), as if the Company did not exercise", or (B) the sale of the
elected part to the Company. Silence is deemed a choice of (A).

Our reading of (A):

* The sale is of *all* the Target Shares. "In compliance with the requirements of section
  6(d)(iv), as if the Company did not exercise" imports §6(d)(iv)'s conditions (the 30 days after
  the company's period, terms no more favourable to the buyer, no breach of §6(g)/(h)); it does
  not import §6(d)(iv)'s tolerance of a sale of part, because (A) itself defines the sale as one
  of "all the Target Shares". A sale of part under (A) is neither alternative: selling exactly the
  shares the company did not elect keeps the elected ones with the owner (where (B) would sell them
  to the company), and any other part leaves the (A)/(B) choice unmade. So while an (A) choice
  stands, chosen or deemed, a sale of fewer than all the Target Shares is refused; if none is made
  in the window, all of them are again under the right (FMP §6(d)(iv) last sentence).
* No choice of (A) or (B), written or deemed, ends the company's election. FMP §6(d)(iii) gives
  the company 30 days from receipt of the Disposition Notice for "any or all" of the Target
  Shares, and nothing in §6(d)(v) cuts that short. So within its 30 days the company may still
  exercise: for all the remaining shares, which makes it an exercise for all, the owner's choice
  giving way (§6(d)(v) governs only an exercise for "a portion, but not all"); or for more but
  not all, which leaves a written (A) standing (the owner chose to sell all to the third party,
  whatever part the company elected; the choice is made once) and enlarges the part sold to the
  company under (B) (see ``election``). The sale window under (A) opens only when the company's
  30 days end (§6(d)(iv)), so no sale can precede such an exercise.
* A waiver after a written (A) has nothing to end: the sale window already waits for the
  company's 30 days, and the company may exercise for the rest until then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.rofr.context import Ctx


def choice_of_a(ctx: Ctx) -> dict[str, Any] | None:
    """The owner's standing choice of (A), chosen in writing or deemed by silence."""
    choice = ctx.data.get("owner_choice") or {}
    return choice if choice.get("alternative") == "third_party_sale" else None


@enforces("rofr.partial_exercise.on_silence", "rofr.partial_exercise.owner_choice")
def a_stands(ctx: Ctx) -> bool:
    """Guard, FMP §6(d)(v)(A): the owner's choice of a sale of all to a third party stands."""
    return choice_of_a(ctx) is not None


def written_choice_of_a(ctx: Ctx) -> dict[str, Any] | None:
    choice = choice_of_a(ctx)
    return choice if choice and not choice.get("deemed") and choice.get("notice") else None


@enforces("rofr.partial_exercise.on_silence", "rofr.partial_exercise.owner_choice")
def _clause(ctx: Ctx, choice: dict[str, Any]) -> str:
    pe = ctx.rofr.partial_exercise
    assert pe is not None  # an owner choice exists only under terms with partial exercise
    return pe.on_silence.clause if choice.get("deemed") else pe.owner_choice.clause


def _chosen_on(ctx: Ctx) -> datetime:
    return ctx.instant("owner_choice", "notice", "effective_at")


def refuse_waiver_after_a(ctx: Ctx) -> Refused:
    """FMP §6(d)(iv)-(v): after the owner's written (A) a waiver changes nothing."""
    choice = written_choice_of_a(ctx)
    assert choice is not None
    election = ctx.must_deadline("election_deadline")
    return Refused(
        _clause(ctx, choice),
        f"the owner chose (A) on {ctx.cal.fmt(_chosen_on(ctx))}: sale of all the "
        f"{ctx.data['shares']} Target Shares to the third party once the company's 30 days end "
        f"{ctx.cal.fmt(election.at)}; a waiver changes nothing, and until then the company may "
        "still exercise for the rest",
        "wrong_state",
    )


def check_sale_under_a(ctx: Ctx, shares: int) -> None:
    """FMP §6(d)(v)(A): under (A) the sale is of all the Target Shares, never of part."""
    choice = choice_of_a(ctx)
    target = ctx.data["shares"]
    if choice is None or shares == target:
        return
    clause = _clause(ctx, choice)
    how = "is deemed, by not answering in time, to have chosen" if choice.get("deemed") else "chose"
    elected = ctx.data["elected_shares"]
    why = "a sale of part is neither alternative"
    if shares == target - elected:
        why = (
            f"selling only the {shares} the company did not elect would keep its {elected} "
            "with the owner, which is neither (A) nor (B)"
        )
    raise Refused(
        f"{clause}(A)",
        f"the owner {how} (A): sale of all the {target} Target Shares to a third party, as if "
        f"the company had not exercised; {why}: report the sale of all {target}",
    )
