"""Throughput past saturation: does the service plateau, and refuse fast?

    python bench/overload.py --database-url postgresql://... [--clients 50,200,500]
                             [--seconds 15] [--workers 2] [--generator wrk|python]
                             [--query light|first-screen]

Starts `clientzone serve --workers N` on the given (empty) database, then for
each number of concurrent clients sends a light authenticated portal query
(the viewer, the active account and its balance) in a closed loop for the
given time, and prints: answered requests per second, p50/p99 of the answered
ones, how many were refused with 503 UNAVAILABLE and how fast (p99), and any
other failure. The load generator runs on the same machine: `wrk` (C, when
installed: `apt-get install wrk`) takes far less of the CPU it shares with the
server than the Python one, which saturates a core by itself past 200 clients.
After a refusal the wrk thread delays one request by Retry-After (1 s), as
clients that honour it would; its latency percentiles cover every response,
refused or answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import graphql_load
from bench.graphql_load import free_port
from bench.setup_data import prepare
from clientzone.db import Database

QUERY = (
    "query Light { viewer { user { email } activeAccount { number name "
    "balance { amount currency } } } }"
)

QUERIES = {"light": QUERY, "first-screen": graphql_load.QUERY}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    base: str, token: str, clients: int, seconds: float, query: str = QUERY
) -> dict[str, float]:
    answered: list[float] = []
    refused: list[float] = []
    failed = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:

        async def client() -> None:
            nonlocal failed
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await http.post("/graphql", json={"query": query}, headers=headers)
                except httpx.HTTPError:
                    failed += 1
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code == 200 and "errors" not in response.json():
                    answered.append(elapsed)
                elif response.status_code == 503:
                    refused.append(elapsed)
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                else:
                    failed += 1

        await asyncio.gather(*(client() for _ in range(clients)))
    return {
        "clients": clients,
        "rps": len(answered) / seconds,
        "p50": statistics.median(answered) if answered else 0.0,
        "p99": percentile(answered, 0.99),
        "refused": len(refused),
        "refused_p99": percentile(refused, 0.99),
        "failed": failed,
    }


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("OVERLOAD_TOKEN")
wrk.body = os.getenv("OVERLOAD_BODY")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) answered = 0; refused = 0; other = 0; backoff = 0 end
-- A refusal says Retry-After: the thread's next request waits that long,
-- as a client that honours it would.
function delay()
  if backoff > 0 then backoff = backoff - 1; return 1000 end
  return 0
end
function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors"', 1, true) then answered = answered + 1
  elseif status == 503 then refused = refused + 1; backoff = backoff + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local a, r, o = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("answered"); r = r + t:get("refused"); o = o + t:get("other")
  end
  local failed = o + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'RESULT {"answered": %d, "refused": %d, "failed": %d, "seconds": %f, '
    .. '"p50": %f, "p99": %f}\\n',
    a, r, failed, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


async def run_wrk(
    base: str, token: str, clients: int, seconds: float, query: str = QUERY
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        env = {**os.environ, "OVERLOAD_TOKEN": token, "OVERLOAD_BODY": json.dumps({"query": query})}
        process = await asyncio.create_subprocess_exec(
            *("wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds:.0f}s"),
            *("--timeout", "60s", "-s", script.name, f"{base}/graphql"),
            env=env,
            stdout=subprocess.PIPE,
        )
        output, _ = await process.communicate()
    line = next(x for x in output.decode().splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    return {
        "clients": clients,
        "rps": result["answered"] / result["seconds"],
        "p50": result["p50"],
        "p99": result["p99"],
        "refused": result["refused"],
        "refused_p99": float("nan"),
        "failed": result["failed"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--generator", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python"
    )
    parser.add_argument(
        "--query",
        choices=sorted(QUERIES),
        default="light",
        help="light (the default), or the portal's first screen of graphql_load.py",
    )
    args = parser.parse_args()
    measure = run_wrk if args.generator == "wrk" else run
    database = Database(args.database_url)
    token, _ = await prepare(database, accounts=10)
    await database.dispose()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "MAIL_SENDER": "off",
        "LOG_LEVEL": "WARNING",
        # The load generator shares one budget: keep it out of the way.
        "COST_BUDGET_PER_MINUTE": "100000000",
    }
    with tempfile.TemporaryFile() as log:
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "clientzone", "serve", "--port", str(port)),
            *("--workers", str(args.workers)),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(timeout=1) as probe:
                for _ in range(100):
                    try:
                        if (await probe.get(f"{base}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            await run(base, token, 10, 2)  # warm up every worker
            print(
                f"serve --workers {args.workers}, {args.query} query, "
                f"{args.seconds:.0f} s per step, "
                f"load from {args.generator}"
                + (" (p50/p99 over all responses)" if args.generator == "wrk" else "")
            )
            print("clients  answered/s  p50 ms  p99 ms  refused  refused p99 ms  failed")
            for clients in (int(c) for c in args.clients.split(",")):
                row = await measure(base, token, clients, args.seconds, QUERIES[args.query])
                print(
                    f"{row['clients']:>7}  {row['rps']:>10.1f}  {row['p50']:>6.1f}  "
                    f"{row['p99']:>6.1f}  {row['refused']:>7}  {row['refused_p99']:>14.1f}  "
                    f"{row['failed']:>6}"
                )
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
