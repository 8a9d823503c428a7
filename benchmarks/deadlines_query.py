"""Deadlines query: the dashboard's pending-deadline pages over 1,000,000 pending deadlines.

N pending timer rows (as the engine writes them; a few to a workflow) are bulk-inserted across
a few companies and parties. Then ``services.store.queries.list_pending_deadlines`` is timed
for the first page, a page deep in the keyset (half-way through one company's deadlines), and
both again filtered by party; ``EXPLAIN (ANALYZE, BUFFERS)`` shows which index each uses; and
the process's resident memory is read before and after paging through 100 pages
(ROADMAP item 4 and 5: paging stays fast and memory flat at 1,000,000 rows).

    uv run python benchmarks/deadlines_query.py --size 1000000
"""

from __future__ import annotations

import gc
import time
from typing import Any

from harness import (
    NOW,
    arguments,
    clone_deadlines,
    figure,
    machine_context,
    median,
    percentile,
    quiet_logs,
    register_companies,
    rss_mib,
    run,
    say,
    scratch_database,
    template_workflow,
)

# One small company (a tenth of the rows) among three large ones: the query must not depend on
# the company being a large share of the table.
COMPANIES = ("acme", *("globex", "initech", "umbrella") * 3)
PARTIES = ("company", "owner", "assignee", "transferee")
PLAN_WORDS = ("Index", "Seq Scan", "Sort", "Filter", "Rows Removed", "Buffers", "Execution Time")


async def keyset_position(
    pool: Any, company: str, offset: int, party: str | None = None
) -> tuple[Any, Any]:
    """The (due_at, timer_id) of the row ``offset`` rows into a company's pending deadlines."""
    row = await pool.fetchrow(
        "SELECT due_at, timer_id FROM timers WHERE company_id = $1 AND status = 'pending' "
        "AND ($3::text IS NULL OR party = $3) ORDER BY due_at, timer_id OFFSET $2 LIMIT 1",
        company,
        offset,
        party,
    )
    return row["due_at"], row["timer_id"]


async def time_page(pool: Any, company: str, repeat: int, **query: Any) -> list[float]:
    from services.store.queries import list_pending_deadlines

    await list_pending_deadlines(pool, company, **query)  # prepares the statement
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        rows = await list_pending_deadlines(pool, company, **query)
        timings.append(time.perf_counter() - began)
    assert rows, f"no deadlines for {query}"
    return timings


async def explain(pool: Any, company: str, **query: Any) -> bool:
    """Print the plan's telling lines; True if it reads an index and no sequential scan."""
    from services.store.queries import pending_deadlines_query

    sql, args = pending_deadlines_query(
        company, after=query.get("after"), limit=query.get("limit", 50), party=query.get("party")
    )
    plan = [r[0] for r in await pool.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)]
    for line in plan:
        if any(word in line for word in PLAN_WORDS):
            say(f"    {line.strip()}")
    text = "\n".join(plan)
    return "Index" in text and "Seq Scan" not in text


async def page_through(pool: Any, company: str, pages: int, limit: int) -> tuple[float, float]:
    """Follow the keyset for ``pages`` pages; the resident memory before and after (MiB)."""
    from services.store.queries import list_pending_deadlines

    gc.collect()
    before = rss_mib()
    after = None
    for page in range(1, pages + 1):
        rows = await list_pending_deadlines(pool, company, after=after, limit=limit)
        # At the end of a small run's deadlines, start again from the first page.
        after = (rows[-1]["due_at"], rows[-1]["timer_id"]) if rows else None
        if page % 25 == 0:
            say(f"    page {page}: RSS {rss_mib():.1f} MiB")
    gc.collect()
    return before, rss_mib()


async def main() -> None:
    from services.store.db import connect

    args = parser.parse_args()
    async with scratch_database() as url:
        await machine_context(url)
        pool = await connect(url, max_size=2)
        try:
            await register_companies(pool, (*set(COMPANIES), "template"))
            template = await template_workflow(pool, "template")
            began = time.perf_counter()
            inserted = await clone_deadlines(
                pool, template, count=args.size, companies=COMPANIES, parties=PARTIES,
                first_due=NOW, spacing_seconds=7, per_workflow=args.per_workflow,
            )  # fmt: skip
            say(f"inserted {inserted} pending deadlines in {time.perf_counter() - began:.1f} s")
            # What autovacuum does to a table this size soon after: statistics and the
            # visibility map (index-only visibility checks), so the first query is not special.
            await pool.execute("VACUUM ANALYZE timers")
            figure("pending_deadlines", inserted)
            await measure(pool, args)
        finally:
            await pool.close()


async def measure(pool: Any, args: Any) -> None:
    company = COMPANIES[0]
    mine = await pool.fetchval(
        "SELECT count(*) FROM timers WHERE company_id = $1 AND status = 'pending'", company
    )
    say(f"company {company}: {mine} pending deadlines; pages of {args.limit}")
    deep = await keyset_position(pool, company, mine // 2)
    deep_party = await keyset_position(pool, company, mine // len(PARTIES) // 2, "owner")
    cases = {
        "first_page": {},
        "deep_page": {"after": deep},
        "party_first_page": {"party": "owner"},
        "party_deep_page": {"party": "owner", "after": deep_party},
    }
    for name, case in cases.items():
        query = {**case, "limit": args.limit}
        timings = await time_page(pool, company, args.repeat, **query)
        figure(f"{name}_median_ms", median(timings) * 1000, "ms")
        figure(f"{name}_p99_ms", percentile(timings, 99) * 1000, "ms")
        say(f"  EXPLAIN (ANALYZE, BUFFERS) {name}:")
        figure(f"{name}_uses_index", int(await explain(pool, company, **query)))
    say(f"  paging through {args.pages} pages of {args.limit}:")
    began = time.perf_counter()
    before, after = await page_through(pool, company, args.pages, args.limit)
    figure("pages_per_second", args.pages / (time.perf_counter() - began), "/s")
    figure("rss_before_mib", before, "MiB")
    figure("rss_after_mib", after, "MiB")
    figure("rss_growth_mib", after - before, "MiB")


parser = arguments(
    __doc__.split("\n")[0],
    default_size=1_000_000,
    per_workflow=(int, 4, "pending deadlines per workflow"),
    limit=(int, 50, "rows per page"),
    repeat=(int, 50, "timed runs of each query"),
    pages=(int, 100, "pages to follow for the memory reading"),
)

if __name__ == "__main__":
    quiet_logs()
    run(main, parser.parse_args().max_seconds)
