"""Option grants: their facts, vesting and exercisability (docs/rules.md §3)."""
