"""How many slow generations one machine holds at once under gunicorn.

    .venv/bin/python bench/concurrency.py [--inflight 500] [--latency 5] [--workers N --threads N]

The stand-in answers every generation after `--latency` seconds (a 1024×1024 PNG, 1.7 MB).
`--inflight` users (one key each, Free plan) each fire one POST /api/generations/ at the same
moment through gunicorn with the repo's gunicorn.conf.py as shipped (DEBUG off, psycopg pool of
DATABASE_POOL_MAX per worker), unless --workers/--threads/--pool-max say otherwise. Reported: how
many were in flight at the provider at once, errors, wall time, request time against the
upstream latency, peak RSS of the gunicorn processes (and per generation in flight) and peak
PostgreSQL connections (pg_stat_activity). Targets (issue 17): ≥ 500 in flight, no error,
p95 ≤ latency + 2 s, ≤ 3 MB RSS per generation in flight, connections ≤ workers × pool.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _harness import (
    Gunicorn,
    Stack,
    StandInProcess,
    cookies_for,
    machine,
    make_configuration,
    make_user,
    pct,
    point_providers_at,
    server_timing,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import requests  # noqa: E402


async def burst(port: int, clients, steps: list) -> list[tuple[int, float, str]]:
    """Every client's POST /api/generations/ at the same moment, on its own connection, from
    one event loop; (status, seconds, start of the body) each."""
    requests_bytes = []
    for cookies, headers, body in clients:
        payload = json.dumps(body).encode()
        cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
        head = (
            f"POST /api/generations/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"Cookie: {cookie}\r\nX-CSRFToken: {headers['X-CSRFToken']}\r\n"
            "Connection: close\r\n\r\n"
        )
        requests_bytes.append(head.encode() + payload)
    go = asyncio.Event()

    async def one(raw: bytes) -> tuple[int, float, str]:
        await go.wait()
        t0 = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 120)
            header_lines = []
            while (line := await reader.readline()) not in (b"\r\n", b""):
                header_lines.append(line.decode("latin-1"))
            headers = dict(h.split(":", 1) for h in header_lines if ":" in h)
            headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            writer.close()
            elapsed = time.perf_counter() - t0
            steps.append(server_timing(headers.get("server-timing", "")))
            return int(status_line.split()[1]), elapsed, body[:200].decode("utf-8", "replace")
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            return 0, time.perf_counter() - t0, repr(exc)[:200]

    tasks = [asyncio.create_task(one(raw)) for raw in requests_bytes]
    await asyncio.sleep(0.1)  # every task waiting at the start line
    go.set()
    return list(await asyncio.gather(*tasks))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inflight", type=int, default=500)
    parser.add_argument("--latency", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, default=None, help="default: gunicorn.conf.py's")
    parser.add_argument("--pool-max", type=int, default=None, help="DATABASE_POOL_MAX per worker")
    parser.add_argument(
        "--client",
        choices=("asyncio", "threads"),
        default="asyncio",
        help="asyncio: one event loop sends every request (a light client: the burst measures "
        "the server); threads: one requests call per thread",
    )
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the workers' stacks during the burst with py-spy (pip install py-spy) "
        "into FILE (collapsed stacks; the busiest frames are printed)",
    )
    args = parser.parse_args()

    with Stack() as stack, StandInProcess(latency=args.latency) as standin:
        point_providers_at(standin.url)
        from byok.models import ImageModel

        model = ImageModel.objects.get(provider__slug="openai", model_id="gpt-image-1.5")
        print(f"creating {args.inflight} users with a key ...", flush=True)
        clients = []
        for _ in range(args.inflight):
            user = make_user()
            config = make_configuration(user)
            cookies, headers = cookies_for(user)
            body = {
                "configId": str(config.pk),
                "prompt": "a fawn in a misty forest",
                "parameters": {"modelId": str(model.pk), "count": 1, "size": "1024x1024"},
            }
            clients.append((cookies, headers, body))
        from django.db import connections

        connections.close_all()  # count only the app's connections below

        pool = {} if args.pool_max is None else {"DATABASE_POOL_MAX": str(args.pool_max)}
        with Gunicorn(
            stack.env,
            workers=args.workers,
            threads=args.threads,
            # The stand-in is on loopback: let it through the network guard by name.
            PROVIDER_PRIVATE_HOSTS=standin.host_port,
            **pool,
        ) as app:
            pool_max = int(app.env.get("DATABASE_POOL_MAX") or 20)  # settings.py default
            idle_rss = app.rss_mb()
            peaks = {"rss": idle_rss, "pg": 0}
            sampling = True

            def sample() -> None:
                while sampling:
                    peaks["rss"] = max(peaks["rss"], app.rss_mb())
                    peaks["pg"] = max(peaks["pg"], stack.pg.connections("bambi"))
                    time.sleep(0.25)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            barrier = threading.Barrier(args.inflight)
            steps: list[dict[str, float]] = []

            def post(client) -> requests.Response:
                cookies, headers, body = client
                return requests.post(
                    f"{app.url}/api/generations/",
                    json=body,
                    cookies=cookies,
                    headers=headers,
                    timeout=120,
                )

            def fire_once(client) -> tuple[int, float, str]:
                r = post(client)
                return r.status_code, 0.0, r.text[:200]

            def fire(i: int) -> tuple[int, float, str]:
                barrier.wait(timeout=60)
                t0 = time.perf_counter()
                try:
                    r = post(clients[i])
                    steps.append(server_timing(r.headers.get("Server-Timing", "")))
                    return r.status_code, time.perf_counter() - t0, r.text[:200]
                except requests.RequestException as exc:
                    return 0, time.perf_counter() - t0, repr(exc)[:200]

            # Warm the workers up as a running server is (imports done, pools grown, first
            # connection to the provider open): a burst of 40 first, not measured.
            standin.latency = 0.2
            with ThreadPoolExecutor(40) as pool:
                warm = list(pool.map(lambda i: fire_once(clients[i]), range(40)))
            if any(status != 201 for status, _, _ in warm):
                raise SystemExit(f"warm-up failed: {warm[:3]}")
            standin.latency = args.latency
            standin.reset()
            spy = None
            if args.py_spy:
                import subprocess

                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(app.proc.pid),
                        "--subprocesses",
                        "--format",
                        "raw",
                        "--output",
                        args.py_spy,
                        "--rate",
                        "200",
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(1.0)
            cpu_before = app.cpu_seconds()
            started = time.perf_counter()
            if args.client == "threads":
                with ThreadPoolExecutor(args.inflight) as pool:
                    results = list(pool.map(fire, range(args.inflight)))
            else:
                results = asyncio.run(burst(app.port, clients, steps))
            wall = time.perf_counter() - started
            cpu = app.cpu_seconds() - cpu_before
            if spy is not None:
                spy.send_signal(2)  # SIGINT: py-spy writes what it recorded
                spy.wait(timeout=30)
            sampling = False
            sampler.join()

        statuses = [s for s, _, _ in results]
        errors = [(s, text) for s, _, text in results if s != 201]
        durations = [d for _, d, _ in results]
        print()
        print(f"Machine: {machine()}")
        print(
            f"gunicorn {app.workers} workers × {app.threads} threads (gunicorn.conf.py"
            f"{' as shipped' if args.workers is None and args.threads is None else ', overridden'}"
            f"), DATABASE_POOL_MAX {pool_max}, upstream latency {args.latency:.1f} s, "
            "1024×1024 PNG (1.7 MB)"
        )
        print(f"requests fired at once        {args.inflight}")
        print(f"in flight at the provider     {standin.max_in_flight} (peak)")
        print(f"201 Created                   {statuses.count(201)}")
        print(f"errors                        {len(errors)}")
        for status, text in errors[:5]:
            print(f"    {status}: {text}")
        print(f"wall time                     {wall:.1f} s")
        print(
            f"request time                  p50 {pct(durations, 50):.2f} s, "
            f"p95 {pct(durations, 95):.2f} s, max {max(durations):.2f} s"
        )
        print(
            f"gunicorn CPU                  {cpu:.1f} s in all, "
            f"{cpu / args.inflight * 1000:.1f} ms per generation"
        )
        per = (peaks["rss"] - idle_rss) / max(standin.max_in_flight, 1)
        print(
            f"gunicorn RSS (all processes)  idle {idle_rss:.0f} MB, peak {peaks['rss']:.0f} MB "
            f"({per:.2f} MB per generation in flight)"
        )
        names = [n for n in steps[0] if n != "app"] if steps else []
        print(
            "Server-Timing steps, p50 / p95 ms: "
            + ", ".join(
                f"{n} {pct([s.get(n, 0) for s in steps], 50):.0f} / "
                f"{pct([s.get(n, 0) for s in steps], 95):.0f}"
                for n in [*names, "app"]
            )
        )
        bound = app.workers * pool_max
        print(f"PostgreSQL connections        peak {peaks['pg']} (workers × pool = {bound})")
        p95 = pct(durations, 95)
        checks = {
            f"≥ {args.inflight} in flight": standin.max_in_flight >= args.inflight,
            "no error": not errors,
            f"p95 ≤ {args.latency + 2:.0f} s": p95 <= args.latency + 2,
            "≤ 3 MB per in flight": per <= 3,
            "connections ≤ workers × pool": peaks["pg"] <= bound,
        }
        print(
            "verdict                       "
            + "; ".join(f"{name} {'OK' if ok else 'MISS'}" for name, ok in checks.items())
        )


if __name__ == "__main__":
    main()
