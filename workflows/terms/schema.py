"""The terms schema: one agreement family's windows, rules and parties, each citing its clause.

A terms document is data (YAML or JSON). Every value that comes from an agreement is either a
``Cited`` pair ``{value, clause}`` or a block with a ``clause`` field beside its values, so a
deadline, a refusal or a dashboard row can always say which clause it applies.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflows.calendar import CompanyCalendar
from workflows.kernel import Party

T = TypeVar("T")
Clause = str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Strict, Generic[T]):
    """A value and the clause it comes from."""

    value: T
    clause: Clause = Field(min_length=1)


class NoticeMethod(StrEnum):
    PERSONAL = "personal"
    COURIER = "courier"
    FAX = "fax"
    EMAIL = "email"
    FIRST_CLASS_MAIL = "first_class_mail"
    CERTIFIED_MAIL = "certified_mail"
    REGISTERED_MAIL = "registered_mail"


class Effectiveness(StrEnum):
    ON_DELIVERY = "on_delivery"  # effective when delivered at the address
    AFTER_DEPOSIT = "after_deposit"  # effective a fixed delay after deposit in the mail


class CalendarTerms(_Strict):
    time_zone: Cited[str]
    holidays: Cited[str]  # a country code of the holidays package ("US"); "" = weekends only
    subdivision: Cited[str] | None = None
    extra_holidays: list[date] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: Cited[str]) -> Cited[str]:
        try:
            ZoneInfo(v.value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v.value!r}") from e
        return v

    @field_validator("holidays")
    @classmethod
    def _known_calendar(cls, v: Cited[str]) -> Cited[str]:
        if v.value and v.value not in holidays_lib.list_supported_countries():
            raise ValueError(f"unknown holiday calendar {v.value!r} (use a country code, or '')")
        return v

    def company_calendar(self) -> CompanyCalendar:
        return _calendar(
            self.time_zone.value,
            self.holidays.value,
            self.subdivision.value if self.subdivision else None,
            tuple(self.extra_holidays),
        )


@lru_cache(maxsize=64)
def _calendar(
    zone: str, holidays: str, subdivision: str | None, extra: tuple[date, ...]
) -> CompanyCalendar:
    # One calendar per distinct setting: its holiday table is built once, not per decision.
    return CompanyCalendar(zone, holidays, subdivision, extra)


class MethodRule(_Strict):
    """How a notice given by one method becomes effective."""

    effective: Effectiveness
    delay_hours: int = Field(default=0, ge=0, le=24 * 30)
    clause: Clause = Field(min_length=1)


class NoticeTerms(_Strict):
    in_writing: Cited[bool]
    methods: dict[NoticeMethod, MethodRule] = Field(min_length=1)
    # A notice kind limited to fewer methods than ``methods`` (e.g. one a clause prescribes).
    methods_by_kind: dict[str, Cited[list[NoticeMethod]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kinds_use_known_methods(self) -> NoticeTerms:
        for kind, allowed in self.methods_by_kind.items():
            unknown = [m.value for m in allowed.value if m not in self.methods]
            if unknown:
                raise ValueError(f"methods_by_kind.{kind}: methods without a rule: {unknown}")
        return self


class Window(_Strict):
    """``days`` calendar days after the event named by ``runs_from``."""

    days: int = Field(gt=0, le=3650)
    runs_from: Literal[
        "notice_effective", "notice_date", "election_deadline", "exercise_notice_effective"
    ]
    clause: Clause = Field(min_length=1)
    label: str = ""  # the start as the clause words it ("Disposition Notice received")


class NoticeRequirements(_Strict):
    """What the owner's notice of a proposed transfer must contain."""

    transfer_types: Cited[list[Literal["sale", "pledge", "gift", "involuntary"]]]
    price_required_for: Cited[list[Literal["sale", "pledge", "gift", "involuntary"]]]
    price_when_absent: Cited[Literal["fair_market_value_determined_by_company"]] | None = None
    transferee_address: Cited[bool]
    compliance_proof: Cited[bool]
    bona_fide_evidence: Cited[bool]
    signatures: Cited[list[Party]]
    one_notice_per_transferee: Cited[bool]
    binding_commitment: Cited[bool] | None = None
    no_transfer_while_subject_to_repurchase: Cited[bool] | None = None


class ClosingTerms(_Strict):
    """When a repurchase after a full exercise must close (``days`` null: no fixed deadline)."""

    days: int | None = Field(default=None, gt=0)
    runs_from: Literal["exercise_notice_effective"] = "exercise_notice_effective"
    clause: Clause = Field(min_length=1)


class PartialExerciseTerms(_Strict):
    """The owner's choice after an exercise for only part of the shares (FMP §6(d)(v))."""

    owner_choice: Window
    on_silence: Cited[Literal["third_party_sale", "sale_to_company"]]


class NonCashTerms(_Strict):
    """A price payable in property other than cash or indebtedness."""

    method: Literal["appraisal", "company_discounted_cash_equivalent"]
    clause: Clause = Field(min_length=1)
    agree_value: Window | None = None
    joint_appraiser: Window | None = None
    third_appraiser_binds: Cited[bool] | None = None
    cost_shared_equally: Cited[bool] | None = None
    closing_business_days_after_exercise: Cited[int] | None = None
    closing_days_after_valuation: Cited[int] | None = None
    debt_cancellation_is_cash: Cited[bool] | None = None

    @model_validator(mode="after")
    def _appraisal_has_its_marks(self) -> NonCashTerms:
        if self.method == "appraisal":
            needed = (
                "agree_value",
                "joint_appraiser",
                "closing_business_days_after_exercise",
                "closing_days_after_valuation",
            )
            missing = [n for n in needed if getattr(self, n) is None]
            if missing:
                raise ValueError(f"an appraisal needs {', '.join(missing)}")
        return self


class EscrowTerms(_Strict):
    notices_to_escrow_agent: Cited[bool]
    delivery_days_after_payment: Cited[int]


LapseKind = Literal[
    "holders_of_record_exceeded",
    "public_market_determined",
    "firm_commitment_offering",
    "transfer_of_control",
    "public_market_exists",
]


class LapseEvent(_Strict):
    """An event on which the right ends for good."""

    event: LapseKind
    parties: list[Party] = Field(min_length=1)
    clause: Clause = Field(min_length=1)
    more_than_holders: int | None = Field(default=None, gt=0)
    min_offering_amount: int | None = Field(default=None, gt=0)
    unless_successor_assumes: bool = False
    markets: list[Literal["national_exchange", "otc_daily_prices"]] = Field(default_factory=list)


class ExemptTransfer(_Strict):
    """A transfer the right does not reach, and the conditions it needs."""

    category: Literal[
        "gift_to_spouse_or_issue", "will_or_intestacy", "pledge_to_company", "ownership_change"
    ]
    company_consent: bool
    transferee_acknowledgment: bool
    clause: Clause = Field(min_length=1)
    note: str = ""


ROFR_COMMANDS = (
    "deliver_transfer_notice",
    "reject_transfer_notice",
    "assign_rofr",
    "exercise_rofr",
    "waive_rofr",
    "choose_sale_alternative",
    "agree_cash_value",
    "appoint_joint_appraiser",
    "appoint_appraisers",
    "record_valuation",
    "complete_closing",
    "release_escrow",
    "report_third_party_sale",
    "demand_assurances",
    "provide_assurances",
    "approve_transfer",
    "record_lapse_event",
    "propose_exempt_transfer",
    "consent_to_transfer",
    "refuse_consent",
    "acknowledge_transfer_terms",
    "complete_exempt_transfer",
)


class RofrTerms(_Strict):
    clause: Clause = Field(min_length=1)  # the grant of the right
    notice_name: Cited[str]
    notice_recipient: Cited[str]
    requirements: NoticeRequirements
    notice_review: Cited[bool]
    election_window: Window
    election_scope: Cited[Literal["any_or_all", "all_only"]]
    closing: ClosingTerms
    partial_exercise: PartialExerciseTerms | None = None
    sale_window: Window
    sale_terms: Cited[Literal["no_more_favourable", "as_described"]]
    sale_buyer: Cited[Literal["any_third_party", "proposed_transferee"]]
    buyer_takes: Cited[Literal["free_and_clear", "subject_to_rofr"]]
    transferee_written_agreement: Cited[bool]
    recording_needs_approval: Cited[bool]
    non_cash: NonCashTerms
    escrow: EscrowTerms | None = None
    assignable: Cited[bool]
    lapse_events: list[LapseEvent] = Field(min_length=1)
    exempt_transfers: list[ExemptTransfer] = Field(default_factory=list)
    parties: dict[str, Cited[list[Party]]]

    @field_validator("parties")
    @classmethod
    def _known_commands_and_parties(
        cls, v: dict[str, Cited[list[Party]]]
    ) -> dict[str, Cited[list[Party]]]:
        unknown = sorted(set(v) - set(ROFR_COMMANDS))
        if unknown:
            raise ValueError(f"unknown commands {unknown}; known: {list(ROFR_COMMANDS)}")
        for name, allowed in v.items():
            if Party.SYSTEM in allowed.value:
                raise ValueError(f"{name}: the system party is reserved for timers")
        return v

    @model_validator(mode="after")
    def _windows_run_from_known_events(self) -> RofrTerms:
        if self.election_window.runs_from not in ("notice_effective", "notice_date"):
            raise ValueError("election_window must run from the notice")
        if self.sale_window.runs_from not in ("notice_effective", "election_deadline"):
            raise ValueError("sale_window runs from the notice or the end of the election window")
        if self.election_scope.value == "any_or_all" and self.partial_exercise is None:
            raise ValueError("a partial election (any_or_all) needs partial_exercise terms")
        return self


class Terms(_Strict):
    """One agreement family: its company calendar, notice rules and Right of First Refusal."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    documents: dict[str, str] = Field(min_length=1)  # citation prefix → document title
    calendar: CalendarTerms
    notices: NoticeTerms
    rofr: RofrTerms

    def company_calendar(self) -> CompanyCalendar:
        return self.calendar.company_calendar()
