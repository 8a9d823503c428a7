"""Clause → code in one hop: every clause a preset cites is listed with the rules enforcing it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.clauses_page import render
from services.cli import app
from services.terms_catalog import TermsCatalog
from workflows import registry
from workflows.kit.clauses import ENFORCED, cited, clause_table

PAGE = Path(__file__).parents[2] / "docs" / "clauses.md"


def test_the_clauses_page_is_generated_from_the_code_and_up_to_date() -> None:
    assert registry.KINDS
    assert PAGE.read_text() == render(TermsCatalog()), "run: equityflow clauses > docs/clauses.md"


def test_every_clause_a_preset_cites_is_on_the_page_with_a_rule_enforcing_it() -> None:
    page = PAGE.read_text()
    catalog = TermsCatalog()
    for terms_id in catalog.ids():
        for clause, rows in clause_table(catalog.get(terms_id)).items():
            assert f"### {clause}\n" in page, (terms_id, clause)
            for path, _, functions in rows:
                assert functions, f"{terms_id}: {path} ({clause}) is enforced by no rule"


def test_every_declared_terms_path_exists_in_a_preset() -> None:
    catalog = TermsCatalog()
    paths = {c.path.split("[", 1)[0] for t in catalog.ids() for c in cited(catalog.get(t))}
    for declared in ENFORCED:
        # a cited value, a part holding cited values, or a plain field of a cited block
        assert any(
            p == declared or p.startswith(declared + ".") or declared.startswith(p + ".")
            for p in paths
        ), declared


def test_equityflow_clauses_prints_one_terms_document() -> None:
    result = CliRunner().invoke(app, ["clauses", "raydream-1992-iso"])
    assert result.exit_code == 0, result.output
    assert "### RD ISO ¶11(b)" in result.output
    assert "`rofr.requirements.binding_commitment` = `true`" in result.output
    assert "fmp-1998-nso" not in result.output
    unknown = CliRunner().invoke(app, ["clauses", "no-such-terms"])
    assert unknown.exit_code == 2
