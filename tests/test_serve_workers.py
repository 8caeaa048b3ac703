"""`clientzone serve` uses every core by default: one worker process per core
(the CPUs it may run on), unless `--workers` or WEB_CONCURRENCY says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from clientzone.cli import serve_workers
from tests.test_end_to_end import free_port

CORES = len(os.sched_getaffinity(0))


def test_the_number_of_workers_follows_the_flag_then_the_environment_then_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert serve_workers(3) == 3
    assert serve_workers(None) == 5
    monkeypatch.delenv("WEB_CONCURRENCY")
    assert serve_workers(None) == CORES
    assert serve_workers(0) == 1


def _workers_of(pid: int) -> int:
    """Child processes of `pid` that are uvicorn's spawned workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    count = 0
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        count += b"spawn_main" in command
    return count


@pytest.mark.parametrize(("args", "expected"), [((), CORES), (("--workers", "2"), 2)])
def test_serve_starts_one_worker_per_core_unless_told(
    tmp_path: Path, args: tuple[str, ...], expected: int
) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("WEB_CONCURRENCY", "CLIENTZONE_PROCESSES")
    }
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/serve.db",
        MAIL_SENDER="off",
        LOG_LEVEL="WARNING",
    )
    subprocess.run(
        [sys.executable, "-m", "clientzone", "migrate"], env=env, check=True, timeout=120
    )
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "clientzone", "serve", "--port", str(port), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            workers = -1
            while time.monotonic() < deadline:
                try:
                    up = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
                except httpx.TransportError:
                    up = 0
                workers = _workers_of(server.pid)
                if up == 200 and workers >= (expected if expected > 1 else 0):
                    break
                time.sleep(0.2)
            # One worker runs in the serving process itself (no child).
            assert workers == (expected if expected > 1 else 0), (
                tmp_path / "serve.log"
            ).read_text()
        finally:
            server.terminate()
            server.wait(timeout=30)
