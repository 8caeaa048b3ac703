"""Keyset pagination at depth: page 1 versus page 10,000 of a connection.

    python bench/pagination_depth.py [--rows 200000] [--page-size 20] [--repeat 50]
                                     [--database-url postgresql://...]

Creates one parent account with `rows` linked accounts and times
`linkedAccounts(first: page-size, after: <cursor>)` at page 1 and at page
rows/page-size (in-process over HTTP, median of `repeat` requests).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup_data import prepare
from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.core.ids import encode_global_id
from clientzone.db import Database
from clientzone.schema.pagination import encode_cursor

QUERY = """
query Page($id: ID, $first: Int, $after: String) {
  account(id: $id) {
    linkedAccounts(first: $first, after: $after) { nodes { number name } pageInfo { hasNextPage } }
  }
}
"""


async def run(url: str, rows: int, page_size: int, repeat: int) -> None:
    database = Database(url)
    token, parent_id = await prepare(database, accounts=1, linked_per_account=rows)
    app = create_app(Settings(_env_file=None, database_url=url), database)  # type: ignore[call-arg]
    headers = {"Authorization": f"Bearer {token}"}
    last_page = rows // page_size
    # The cursor of the row just before the last page, as the API would hand it out.
    deep_cursor = encode_cursor((f"L-{(last_page - 1) * page_size - 1:07d}",))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def timed(after: str | None) -> tuple[float, int]:
            variables = {"id": encode_global_id("Account", parent_id), "first": page_size}
            if after:
                variables["after"] = after
            samples = []
            with database.count_statements() as counted:
                for _ in range(repeat):
                    started = time.perf_counter()
                    response = await client.post(
                        "/graphql", json={"query": QUERY, "variables": variables}, headers=headers
                    )
                    samples.append(time.perf_counter() - started)
                    nodes = response.json()["data"]["account"]["linkedAccounts"]["nodes"]
                    assert len(nodes) == page_size, response.text
            return statistics.median(samples) * 1000, counted.count // repeat

        await timed(None)
        first_ms, first_statements = await timed(None)
        deep_ms, deep_statements = await timed(deep_cursor)
    await database.dispose()
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"backend                 {backend}")
    print(f"linked accounts         {rows}")
    print(f"page 1 median ms        {first_ms:.2f}  ({first_statements} statements)")
    print(f"page {last_page} median ms  {deep_ms:.2f}  ({deep_statements} statements)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        asyncio.run(run(url, args.rows, args.page_size, args.repeat))


if __name__ == "__main__":
    main()
