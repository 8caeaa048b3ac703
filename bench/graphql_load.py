"""Load benchmark: a portal's first screen against a real uvicorn server.

    python bench/graphql_load.py [--accounts 1000] [--seconds 10] [--concurrency 16]
                                 [--database-url postgresql://...] [--workers 1]

Loads N accounts for one owner, starts `clientzone serve --workers N`, sends
the query below from `concurrency` clients for `seconds`, and prints req/s,
p50, p99 and the SQL statements one request costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup_data import prepare
from clientzone.app import create_app
from clientzone.config import Settings
from clientzone.db import Database

QUERY = """
{
  viewer {
    user { email firstName }
    permissions
    activeAccount { number name currency profile { taxId address { city } } }
    memberships(first: 20) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { role inherited account { id number name currency parent { number } } }
    }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def until_sessions_cached(app: Any) -> None:
    """Wait (up to 5 s) until the app's session cache serves: on PostgreSQL it
    does once its LISTEN connection is up, and until then every request also
    reads its session, one statement more than a signed-in user's usually costs."""
    for _ in range(500):
        sessions = app.state.sessions
        if sessions is None or sessions.live:
            return
        await asyncio.sleep(0.01)


async def statements_per_request(url: str, token: str) -> int:
    database = Database(url)
    app = create_app(Settings(_env_file=None, database_url=url), database)  # type: ignore[call-arg]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"Authorization": f"Bearer {token}"}
        await client.post("/graphql", json={"query": QUERY}, headers=headers)
        await until_sessions_cached(app)
        await client.post("/graphql", json={"query": QUERY}, headers=headers)
        with database.count_statements() as counted:
            response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
    assert "errors" not in response.json(), response.text
    await database.dispose()
    return counted.count


async def load(base: str, token: str, seconds: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def wait_until_up(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--workers", type=int, default=1, help="serve's worker processes (default 1)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"

        async def setup() -> str:
            database = Database(url)
            token, _ = await prepare(database, accounts=args.accounts)
            await database.dispose()
            return token

        token = asyncio.run(setup())
        statements = asyncio.run(statements_per_request(url, token))
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "clientzone", "serve", "--port", str(port)),
                *("--workers", str(args.workers)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base)
            asyncio.run(load(base, token, 2, args.concurrency))  # warm-up
            latencies = asyncio.run(load(base, token, args.seconds, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=15)

    latencies.sort()
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"backend              {backend}")
    print(f"accounts             {args.accounts}")
    print(f"workers              {args.workers}")
    print(f"concurrency          {args.concurrency}")
    print(f"requests             {len(latencies)}")
    print(f"req/s                {len(latencies) / args.seconds:.1f}")
    print(f"p50 ms               {statistics.median(latencies) * 1000:.1f}")
    print(f"p99 ms               {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f}")
    print(f"statements/request   {statements}")


if __name__ == "__main__":
    main()
