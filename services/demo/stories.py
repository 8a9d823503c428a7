"""The demo's stories, as data: two transfers under a Right of First Refusal (who does what
when, and which deadlines are let pass), then an option of each company from its grant to
its expiry."""

from __future__ import annotations

from services.demo.option_story import FMP_OPTION, RD_OPTION
from services.demo.steps import Act, LetPass, Story, pt

SIGNED = [{"title": "president", "name": "P. Ames"}, {"title": "secretary", "name": "S. Byrd"}]


def register_opened(at: str, opened_at: str, kept_at: str, **more: object) -> Act:
    """The Secretary opens the company's share register (BYL Art. V §9, Art. VI §1)."""
    payload = {"opened_at": pt(opened_at).isoformat(), "kept_at": kept_at, **more}
    return Act(pt(at), "The Secretary opens the share register.", "open_share_register",
               "company", payload, kind="share_register")  # fmt: skip


def certificate(at: str, holder: dict[str, str], shares: int, legend: dict[str, str]) -> Act:
    """A certificate the owner already holds, entered in the register."""
    payload = {"holder": holder, "shares": shares, "issued_at": pt(at).isoformat(),
               "legends": [legend]}  # fmt: skip
    return Act(pt(at), f"The Secretary enters {holder['name']}'s certificate in the register.",
               "issue_share_certificate", "company", payload, kind="share_register")  # fmt: skip


FMP_LETS_PASS = Story(
    title="Future Media Productions, Inc.: alice offers 1,000 shares to Bob Buyer at $2.50 in "
    "cash; the Company lets its right pass, and alice does not sell within her window.",
    company_name="Future Media Productions, Inc.",
    terms_id="fmp-1998-nso",
    steps=(
        register_opened(
            "2026-03-02T08:00",
            "2026-01-05T09:00",
            "25876 The Old Road, Valencia CA",
            first_number=101,
            signatures=SIGNED,
        ),
        certificate(
            "2026-03-02T08:30",
            {"id": "alice", "name": "alice", "address": "1 Main St, Valencia CA"},
            1000,
            {
                "key": "first_refusal_and_repurchase",
                "clause": "FMP §6(f)",
                "text": "SUBJECT TO A RIGHT OF FIRST REFUSAL",
            },
        ),
        Act(
            pt("2026-03-02T09:00"),
            "alice mails a Disposition Notice by certified mail, return receipt requested: it "
            "takes effect 72 hours after deposit.",
            "deliver_disposition_notice",
            "owner",
            {
                "holder": "alice",
                "shares": 1000,
                "transferee": {"name": "Bob Buyer"},
                "consideration": {"form": "cash", "price_per_share": "2.50"},
                "compliance_proof": "counsel's letter: no breach of §6(b), (c), (g), (h)",
                "notice": {
                    "method": "certified_mail",
                    "deposited_at": pt("2026-03-02T09:00").isoformat(),
                },
            },
        ),
        LetPass(
            "election_deadline",
            "Deadline passes: the Company's 30-day election window ends unexercised.",
        ),
        LetPass(
            "sale_window_end", "Deadline passes: alice's 30-day sale window ends with no sale."
        ),
    ),
)

RD_SELLS = Story(
    title="Ray Dream, Inc.: carol offers 500 shares to Dan Transferee at $4.00 in cash; the "
    "Company lets its right pass, carol sells, and the Company approves the transfer.",
    company_name="Ray Dream, Inc.",
    terms_id="raydream-1992-iso",
    steps=(
        register_opened("2026-03-02T10:00", "1992-03-19T09:00", "Mountain View CA"),
        certificate(
            "2026-03-02T10:30",
            {"id": "carol", "name": "carol", "address": "2 Oak Ave, Mountain View CA"},
            500,
            {
                "key": "first_refusal",
                "clause": "RD ISO ¶16(c)",
                "text": "SUBJECT TO A RIGHT OF FIRST REFUSAL",
            },
        ),
        Act(
            pt("2026-03-02T11:00"),
            "carol and Dan Transferee hand the Company a signed Transfer Notice.",
            "deliver_transfer_notice",
            "owner",
            {
                "holder": "carol",
                "shares": 500,
                "transferee": {"name": "Dan Transferee", "address": "1 Main St, Palo Alto"},
                "consideration": {"form": "cash", "price_per_share": "4.00"},
                "bona_fide_evidence": "signed purchase agreement",
                "signed_by": [
                    {"party": "owner", "name": "Carol Optionee"},
                    {"party": "transferee", "name": "Dan Transferee"},
                ],
                "binding_commitment": True,
                "notice": {
                    "method": "personal",
                    "delivered_at": pt("2026-03-02T11:00").isoformat(),
                },
            },
        ),
        LetPass(
            "election_deadline",
            "Deadline passes: the Company's 30-day exercise period ends unexercised.",
        ),
        Act(
            pt("2026-05-01T12:00"),
            "carol reports that she sold the 500 shares to Dan Transferee that morning, on the "
            "notice's terms; he agreed in writing to hold them subject to ¶11.",
            "report_third_party_sale",
            "owner",
            {
                "buyer": {"name": "Dan Transferee", "address": "1 Main St, Palo Alto"},
                "shares": 500,
                "sold_at": pt("2026-05-01T10:00").isoformat(),
                "price_per_share": "4.00",
                "transferee_agreed_in_writing": True,
            },
        ),
        Act(
            pt("2026-05-04T09:00"),
            "The Company asks for assurances that the transfer happened as described.",
            "demand_assurances",
            "company",
            {"assurances": "executed stock power and wire confirmation"},
        ),
        Act(
            pt("2026-05-05T09:00"),
            "carol sends the executed stock power and the wire confirmation.",
            "provide_assurances",
            "owner",
            {"assurances": "stock power + wire ref 4711"},
        ),
        Act(
            pt("2026-05-06T09:00"),
            "The Company approves the transfer; Dan Transferee holds the shares subject to the "
            "same right (RD ISO ¶11(f)).",
            "approve_transfer",
            "company",
            {},
            tells="share_register",
        ),
    ),
)

STORIES = (FMP_LETS_PASS, RD_SELLS, FMP_OPTION, RD_OPTION)
