"""The demo's stories, as data: two transfers under a Right of First Refusal (who does what
when, and which deadlines are let pass), then an option of each company from its grant to
its expiry."""

from __future__ import annotations

from services.demo.option_story import FMP_OPTION, RD_OPTION
from services.demo.steps import Act, LetPass, Story, pt

FMP_LETS_PASS = Story(
    title="Future Media Productions, Inc.: alice offers 1,000 shares to Bob Buyer at $2.50 in "
    "cash; the Company lets its right pass, and alice does not sell within her window.",
    company_name="Future Media Productions, Inc.",
    terms_id="fmp-1998-nso",
    steps=(
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
                "buyer": {"name": "Dan Transferee"},
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
        ),
    ),
)

STORIES = (FMP_LETS_PASS, RD_SELLS, FMP_OPTION, RD_OPTION)
