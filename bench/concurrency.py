"""How many slow generations one machine holds at once under gunicorn.

    .venv/bin/python bench/concurrency.py [--inflight 240] [--latency 5] [--workers 2 --threads 128]

The stand-in answers every generation after `--latency` seconds (a 1024×1024 PNG). `--inflight`
users (one key each, Free plan) each fire one POST /api/generations/ at the same moment through
gunicorn (gthread, DEBUG off, psycopg pool of DATABASE_POOL_MAX per worker). Reported: how many
were in flight at the provider at once, errors, wall time, peak RSS of the gunicorn processes
and peak PostgreSQL connections (pg_stat_activity). Target: ≥ 200 in flight with no errors.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _harness import (
    Gunicorn,
    Stack,
    cookies_for,
    machine,
    make_configuration,
    make_user,
    pct,
    point_providers_at,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import requests  # noqa: E402

from tests.standin import StandIn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inflight", type=int, default=240)
    parser.add_argument("--latency", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=128)
    parser.add_argument("--pool-max", type=int, default=10, help="DATABASE_POOL_MAX per worker")
    args = parser.parse_args()

    with Stack() as stack, StandIn(latency=args.latency, image_size=1024) as standin:
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
        standin.image(1024, 1024)  # make the picture before the clock starts

        with Gunicorn(
            stack.env,
            workers=args.workers,
            threads=args.threads,
            DATABASE_POOL_MAX=str(args.pool_max),
            # The stand-in is on loopback: let it through the network guard by name.
            PROVIDER_PRIVATE_HOSTS=standin.host_port,
        ) as app:
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

            def fire(i: int) -> tuple[int, float, str]:
                cookies, headers, body = clients[i]
                barrier.wait(timeout=60)
                t0 = time.perf_counter()
                try:
                    r = requests.post(
                        f"{app.url}/api/generations/",
                        json=body,
                        cookies=cookies,
                        headers=headers,
                        timeout=120,
                    )
                    return r.status_code, time.perf_counter() - t0, r.text[:200]
                except requests.RequestException as exc:
                    return 0, time.perf_counter() - t0, repr(exc)[:200]

            standin.reset()
            started = time.perf_counter()
            with ThreadPoolExecutor(args.inflight) as pool:
                results = list(pool.map(fire, range(args.inflight)))
            wall = time.perf_counter() - started
            sampling = False
            sampler.join()

        statuses = [s for s, _, _ in results]
        errors = [(s, text) for s, _, text in results if s != 201]
        durations = [d for _, d, _ in results]
        print()
        print(f"Machine: {machine()}")
        print(
            f"gunicorn {args.workers} workers × {args.threads} threads, DATABASE_POOL_MAX "
            f"{args.pool_max}, upstream latency {args.latency:.1f} s, 1024×1024 PNG"
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
        print(f"gunicorn RSS (all processes)  idle {idle_rss:.0f} MB, peak {peaks['rss']:.0f} MB")
        print(f"PostgreSQL connections        peak {peaks['pg']}")
        ok = standin.max_in_flight >= 200 and not errors
        print(f"verdict                       {'OK' if ok else 'MISS'} (target ≥ 200, no errors)")


if __name__ == "__main__":
    main()
