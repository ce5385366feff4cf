"""Benchmark: the public Open Referral UK feed as NDJSON (``GET /oruk/services?format=ndjson``)
at several directory sizes: time to first byte, total time, services a second, and the peak
memory of the server process, which must not grow with the directory (the stream reads it a
chunk at a time).

For each size: a fresh SQLite file, migrated and seeded with the demo directory
(``seed-demo --activities N``: locations, schedules, costs, categories...), then ``assetlink``
served by uvicorn in a subprocess (matching warm-up off: it would load the directory into the
process and hide what the stream costs). The server's resident memory (``VmRSS``) is sampled
every 20 ms from ``/proc`` before and during the download. Every line is parsed and counted.

    .venv/bin/python bench/oruk.py [--sizes 1000,10000,100000] [--port 8765]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from app import migrations
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.demo.seed import DemoOptions, seed_demo

ROOT = Path(__file__).resolve().parents[1]
SECRET = "assetlink-bench-secret-0123456789abcdef"  # noqa: S105 (a throwaway HS256 key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """The peak resident memory of a process while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _rss_kib(self.pid))
            time.sleep(0.02)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


async def _seed(url: str, size: int) -> float:
    engine = create_engine(Settings(database_url=url, jwt_secret=SECRET), pooled=False)
    started = time.perf_counter()
    await seed_demo(create_sessionmaker(engine), DemoOptions(activities=size, seed=1))
    await engine.dispose()
    return time.perf_counter() - started


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ASSETLINK_DATABASE_URL": url,
        "ASSETLINK_JWT_SECRET": SECRET,
        "ASSETLINK_MATCH_WARMUP": "false",
        "ASSETLINK_LOG_LEVEL": "WARNING",
        "ASSETLINK_RATE_LIMIT_PER_S": "0",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--no-access-log"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def _download(port: int, pid: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    httpx.get(f"{base}/oruk/services", params={"per_page": 1}, timeout=60)  # warm: imports, pool
    before = _rss_kib(pid)
    sampler = RssSampler(pid)
    sampler.start()
    started = time.perf_counter()
    first_byte = None
    lines, size, pending = 0, 0, b""
    with httpx.stream(
        "GET", f"{base}/oruk/services", params={"format": "ndjson"}, timeout=600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            *complete, pending = (pending + chunk).split(b"\n")
            for line in complete:
                json.loads(line)
                lines += 1
    total = time.perf_counter() - started
    peak = sampler.stop()
    assert pending == b"", "the stream ended inside a line"
    return {
        "services": lines,
        "first_byte_s": first_byte or total,
        "total_s": total,
        "services_per_s": lines / total,
        "mb": size / 1e6,
        "rss_before_mib": before / 1024,
        "rss_peak_mib": peak / 1024,
    }


def measure(size: int, port: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'oruk.db'}"
        migrations.upgrade(url)
        seeded = asyncio.run(_seed(url, size))
        server = _serve(url, port)
        try:
            result = _download(port, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert result["services"] == size, result
    return {"size": size, "seed_s": seeded, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    args = parser.parse_args()
    print(
        f"{'services':>9} {'seed s':>7} {'1st byte s':>10} {'total s':>8} {'svc/s':>7} "
        f"{'MB':>7} {'RSS before MiB':>14} {'RSS peak MiB':>12} {'growth MiB':>10}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(size, args.port or _free_port())
        print(
            f"{r['size']:>9} {r['seed_s']:>7.1f} {r['first_byte_s']:>10.3f} {r['total_s']:>8.1f} "
            f"{r['services_per_s']:>7.0f} {r['mb']:>7.1f} {r['rss_before_mib']:>14.1f} "
            f"{r['rss_peak_mib']:>12.1f} {r['rss_peak_mib'] - r['rss_before_mib']:>10.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
