"""The option exercise's section of a terms document (docs/rules.md §3–§4), each value cited.

What differs between the agreements is here, never in code: how the notice is given and to
whom, who may exercise, the securities-law gate, which payment forms the agreement allows and on
what conditions, withholding and the Election, the investment statement, escrow, legends,
fractional shares and the disqualifying-disposition watch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from workflows.kernel import Party
from workflows.terms.base import Cited, Clause, Strict

PaymentFormName = Literal[
    "cash",
    "check",
    "cash_equivalent",
    "salary_debt_cancellation",
    "shares",
    "immediate_sales_proceeds",
    "promissory_note",
]
Exerciser = Literal[
    "optionee", "guardian", "legal_representative", "executor", "administrator", "heir"
]
NoticeMethodName = Literal[
    "personal", "courier", "fax", "certified_mail", "registered_mail", "first_class_mail", "email"
]
Representation = Literal[
    "investment_intent", "over_eighteen", "own_account", "disqualifying_disposition_notice"
]
SecuritiesBasis = Literal[
    "compliance_confirmed_by_company_and_counsel",
    "registration_statement_effective",
    "exemption_opinion_of_counsel",
]


class ExerciseNoticeTerms(Strict):
    """The written notice that exercises the option."""

    name: Cited[str]
    recipient: Cited[str]
    methods: Cited[list[NoticeMethodName]]
    signed: Cited[bool]
    signature_conforms_to_name: Cited[bool]
    irrevocable: Cited[bool]
    #: Representations the notice itself must carry (RD's exercise forms); [] where none.
    representations: Cited[list[Representation]]


class ExercisersTerms(Strict):
    """Who may exercise the option: during the optionee's life, and after death."""

    during_life: Cited[list[Exerciser]]
    after_death: Cited[list[Exerciser]]
    #: FMP §16(d): while an S corporation, not by a person ineligible to hold its stock.
    s_corporation_eligibility: Cited[bool]


class PaymentForm(Strict):
    """One way of paying the exercise price; ``allowed`` false: refused citing ``clause``."""

    allowed: bool
    clause: Clause = Field(min_length=1)
    company_decides: bool = False  # Board consent (FMP §4(a)(ii)); an approved program (RD)
    months_held: int | None = Field(default=None, gt=0)
    held_more_than: bool = False  # "more than" (RD) rather than "at least" (FMP) the months
    holding_only_if_section_16: bool = False  # FMP: only to avoid §16(b) liability
    or_not_acquired_from_company: bool = False  # RD ISO ¶4(c)(ii)
    valued_at: Literal["fair_market_value", "board_determined_value"] | None = None
    max_years: int | None = Field(default=None, gt=0)  # a promissory note's longest term
    interest_at_least_every_months: int | None = Field(default=None, gt=0)
    min_rate: Literal["rate_avoiding_imputed_interest"] | None = None
    recourse: bool = False


class PaymentTerms(Strict):
    forms: dict[PaymentFormName, PaymentForm]
    combination: Cited[bool]
    full_payment_with_notice: Cited[bool]

    @field_validator("forms")
    @classmethod
    def _every_form_said(cls, v: dict[str, PaymentForm]) -> dict[str, PaymentForm]:
        missing = sorted(set(PaymentFormName.__args__) - set(v))  # type: ignore[attr-defined]
        if missing:
            raise ValueError(f"say for every payment form whether it is allowed: {missing}")
        return v


class ElectionTerms(Strict):
    """FMP §13(b)–(c): paying the withholding by shares, on the optionee's Election."""

    methods: Cited[list[Literal["withhold_shares", "tender_shares"]]]
    needs_board_approval: Cited[bool]
    irrevocable_unless_disapproved: Cited[bool]
    deemed_approved_at_tax_date: Cited[bool]
    rate_bases: Cited[list[Literal["flat", "w4"]]]


class WithholdingTerms(Strict):
    condition_of_delivery: Cited[bool]
    #: The Company may let the tax be remitted at a later date it determines.
    later_remittance: Cited[bool]
    election: ElectionTerms | None = None


class InvestmentIntentTerms(Strict):
    letter_on_request: Cited[bool]
    #: FMP §9: a written statement on each exercise while the shares are unregistered.
    statement_while_unregistered: Cited[bool]


class Legend(Strict):
    key: str = Field(min_length=1)
    text: str = Field(min_length=1)
    clause: Clause = Field(min_length=1)
    #: "required": the terms impose it; "default": placed unless the company says otherwise.
    placement: Literal["required", "default"]
    #: Only while the shares are subject to the right of first refusal / repurchase right.
    while_subject_to_rights: bool = False


class FractionTerms(Strict):
    issued: Cited[bool]
    cash_for_fraction: Cited[bool]


class DispositionWatchTerms(Strict):
    """The optionee must promptly notify the CFO of a disposition within these periods."""

    years_after_exercise: int = Field(gt=0)
    years_after_grant: int = Field(gt=0)
    notify: str = Field(min_length=1)
    clause: Clause = Field(min_length=1)


class ExerciseTerms(Strict):
    clause: Clause = Field(min_length=1)  # the grant of the right to exercise
    notice: ExerciseNoticeTerms
    exercisable: Cited[str]  # how the exercisable amount is defined (from the grant's facts)
    expiry: Cited[str]
    post_termination_window: Cited[str]
    securities_law: Cited[list[SecuritiesBasis]]
    exercisers: ExercisersTerms
    payment: PaymentTerms
    withholding: WithholdingTerms
    investment_intent: InvestmentIntentTerms
    escrow: Cited[bool]
    certificate_name: Cited[str]  # in whose name the certificate is registered
    legends: list[Legend] = Field(min_length=1)
    optional_legends: Cited[bool]
    fractional_shares: FractionTerms
    #: No rights as a shareholder until the certificate issues (FMP §11; RD ISO ¶10).
    shareholder_from: Cited[Literal["certificate_issued"]]
    #: When the grant counts the shares as acquired on exercise (RD ISO ¶4(a): "less the number
    #: of shares previously acquired"): once the certificate issues; until then the accepted
    #: exercise holds them. None in terms pinned before it was stated: ``shareholder_from``'s.
    shares_acquired: Cited[Literal["certificate_issued"]] | None = None
    disposition_watch: DispositionWatchTerms | None = None
    parties: dict[str, Cited[list[Party]]]

    @field_validator("parties")
    @classmethod
    def _no_system_party(cls, v: dict[str, Cited[list[Party]]]) -> dict[str, Cited[list[Party]]]:
        for name, allowed in v.items():
            if Party.SYSTEM in allowed.value:
                raise ValueError(f"{name}: the system party is reserved for timers")
        return v
