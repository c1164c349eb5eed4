"""`leonet serve` cold latency: time to the first answer, then p50/p99 of dish status/history.

Usage: python bench/bench_serve.py RESULTS [--requests 2000] [--connections 20]

Starts `leonet serve RESULTS` on a free port of 127.0.0.1 in a subprocess and measures:

* first answer: seconds from starting the process to the first 200 of ``/api/v1/run``
  (polled every 20 ms);
* cold load: right after that, ``--requests`` GETs over ``--connections`` keep-alive HTTP/1.1
  connections, alternating ``/dishes/{id}/status?step=S`` and ``/dishes/{id}/history?start_step=S``
  over every dish and random steps (seed 0), so nearly every request finds nothing cached yet.
  Latency is per request, from writing it to reading the whole answer.

The client is plain asyncio (no dependency); a request that does not answer 200 counts as an
error and is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import subprocess
import sys
import time
import urllib.parse

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _get(reader, writer, path: str) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length)
    return code, body


async def _load(port: int, paths: list[str], connections: int) -> tuple[np.ndarray, list[str]]:
    queue: asyncio.Queue = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)
    lat, errors = [], []

    async def worker():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            try:
                p = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            t0 = time.perf_counter()
            code, body = await _get(reader, writer, p)
            lat.append(time.perf_counter() - t0)
            if code != 200:
                errors.append(f"{code} {p} {body[:200]!r}")
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return np.array(lat), errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=20)
    args = ap.parse_args()
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "leonet", "serve", args.results, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        run = None
        while run is None:
            if proc.poll() is not None:
                sys.exit(f"the server exited: {proc.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"GET /api/v1/run HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := s.recv(65536):
                        data += chunk
                if data.startswith(b"HTTP/1.1 200"):
                    run = json.loads(data.split(b"\r\n\r\n", 1)[1])
            except OSError:
                time.sleep(0.02)
        first_s = time.perf_counter() - t0
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /api/v1/dishes?limit=1000 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        ids = [d["id"] for d in json.loads(data.split(b"\r\n\r\n", 1)[1])["dishes"]]
        rng = random.Random(0)
        n_steps = run["steps"]
        paths = []
        for i in range(args.requests):
            dish = urllib.parse.quote(ids[i % len(ids)], safe="")
            step = rng.randrange(n_steps)
            paths.append(f"/api/v1/dishes/{dish}/status?step={step}" if i % 2 == 0
                         else f"/api/v1/dishes/{dish}/history?start_step={step}")
        t1 = time.perf_counter()
        lat, errors = asyncio.run(_load(port, paths, args.connections))
        wall = time.perf_counter() - t1
        print(f"results: {args.results} ({n_steps} steps, {len(ids)} dishes)")
        print(f"first answer: {first_s:.2f} s after starting `leonet serve`")
        print(f"cold load: {len(lat)} requests over {args.connections} connections in {wall:.2f} s; "
              f"p50 {1e3 * np.percentile(lat, 50):.0f} ms, p99 {1e3 * np.percentile(lat, 99):.0f} ms, "
              f"max {1e3 * lat.max():.0f} ms; {len(errors)} errors")
        for e in errors[:5]:
            print("  ", e)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
