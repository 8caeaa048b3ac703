"""Logins per second, and a light query's latency while logins run flat out.

    python bench/login_throughput.py [--users 50] [--seconds 12] [--concurrency 8]
                                     [--workers 2] [--database-url postgresql://...]

Creates verified users (argon2id hashes with the production parameters),
starts `clientzone serve --workers N` and measures:
  1. the light query `{ viewer { user { email } } }` (bearer token) alone;
  2. logins at full speed from `concurrency` clients;
  3. the light query from one more client while those logins go on.

The light-query client runs in a process of its own, as another person's
browser would: sharing the login generator's event loop, its latency would
include waiting for the generator's own turns.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.graphql_load import free_port, wait_until_up
from clientzone.auth.passwords import HASHER
from clientzone.db import Database
from clientzone.migrate import upgrade
from clientzone.models.base import utcnow
from clientzone.models.sessions import SessionKind, create_session
from clientzone.models.users import User

PASSWORD = "tortuga-naranja-bicicleta-47"  # noqa: S105 (bench data)
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { user { email } userErrors { code } }
}
"""
LIGHT = "{ viewer { user { email } } }"


async def setup(url: str, users: int) -> str:
    """Users bench-0..N-1 with one password; returns a bearer token of the first."""
    database = Database(url)
    await upgrade(database)
    password_hash = HASHER.hash(PASSWORD)
    async with database.transaction() as session:
        rows = [
            User(
                email=f"bench-{i}@example.com",
                first_name="Bench",
                last_name=str(i),
                password_hash=password_hash,
                email_verified_at=utcnow(),
            )
            for i in range(users)
        ]
        session.add_all(rows)
        await session.flush()
        token, _ = await create_session(
            session, user_id=rows[0].id, kind=SessionKind.TOKEN, lifetime=timedelta(days=1)
        )
    await database.dispose()
    return token


async def logins(base: str, users: int, until: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def worker(offset: int) -> None:
            n = offset
            while time.perf_counter() < until:
                variables = {"email": f"bench-{n % users}@example.com", "password": PASSWORD}
                started = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": LOGIN, "variables": variables}
                )
                body = response.json()
                assert body["data"]["login"]["user"], body
                latencies.append(time.perf_counter() - started)
                client.cookies.clear()
                n += concurrency

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies


async def light_queries(base: str, token: str, until: float) -> list[float]:
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.perf_counter() < until:
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": LIGHT}, headers=headers)
            assert response.json()["data"]["viewer"], response.text
            latencies.append(time.perf_counter() - started)
    return latencies


def light_queries_in_process(base: str, token: str, seconds: float) -> list[float]:
    """`light_queries` for `seconds`, from a separate process."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_light_queries_for, (base, token, seconds))


def _light_queries_for(base: str, token: str, seconds: float) -> list[float]:
    return asyncio.run(light_queries(base, token, time.perf_counter() + seconds))


async def measure(base: str, token: str, args: argparse.Namespace) -> dict[str, list[float]]:
    now = time.perf_counter
    await logins(base, args.users, now() + 2, args.concurrency)  # warm-up
    alone = await asyncio.to_thread(light_queries_in_process, base, token, args.seconds / 2)
    login_only = await logins(base, args.users, now() + args.seconds, args.concurrency)
    # The light client starts its clock once its process is up (about a second).
    light_task = asyncio.create_task(
        asyncio.to_thread(light_queries_in_process, base, token, args.seconds)
    )
    await asyncio.sleep(1)
    during = await logins(base, args.users, now() + args.seconds, args.concurrency)
    light = await light_task
    return {"alone": alone, "logins": login_only, "during": during, "light": light}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        token = asyncio.run(setup(url, args.users))
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "MAIL_SENDER": "off"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clientzone",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base)
            results = asyncio.run(measure(base, token, args))
        finally:
            server.terminate()
            server.wait(timeout=15)
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(
        f"backend                       {backend}, {args.workers} workers, {os.cpu_count()} cores"
    )
    print(f"login concurrency             {args.concurrency}")
    print(f"logins/s                      {len(results['logins']) / args.seconds:.1f}")
    print(
        f"login p50 / p99 ms            {statistics.median(results['logins']) * 1000:.0f} / "
        f"{pct(results['logins'], 0.99):.0f}"
    )
    print(
        f"light query alone p50/p99 ms  {statistics.median(results['alone']) * 1000:.1f} / "
        f"{pct(results['alone'], 0.99):.1f}"
    )
    print(f"logins/s with light query     {len(results['during']) / args.seconds:.1f}")
    print(
        f"light query during logins     {statistics.median(results['light']) * 1000:.1f} / "
        f"{pct(results['light'], 0.99):.1f}  (p50 / p99 ms, {len(results['light'])} requests)"
    )


if __name__ == "__main__":
    main()
