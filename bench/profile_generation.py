"""Where the time of one generation goes, in-process: cProfile over POST /api/generations/.

    .venv/bin/python bench/profile_generation.py [--runs 40] [--sort cumulative] [--top 45]

Same request as generation_overhead.py (gpt-image-1.5 on the stand-in, a 1024×1024 PNG, 0 s
upstream), sent through Django's test client (the whole middleware chain, no HTTP server)
with the psycopg pool on, as in gunicorn's workers. Prints the functions that cost the most
over `--runs` generations. A tool for finding what to cut; the figures that count are
generation_overhead.py's.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

from _harness import Stack, StandInProcess, make_configuration, make_user, point_providers_at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--only", help="only functions whose file:line(name) matches this regex")
    parser.add_argument("--sql", action="store_true", help="print the SQL of one generation")
    parser.add_argument("--callers", help="also print who calls functions matching this")
    args = parser.parse_args()

    with StandInProcess() as standin:
        import os

        os.environ["PROVIDER_PRIVATE_HOSTS"] = standin.host_port
        os.environ["RATE_LIMIT_GENERATIONS_PER_MINUTE"] = "0"
        with Stack(pool=True):
            point_providers_at(standin.url)
            from django.test import Client

            from accounts.models import User
            from byok.models import ImageModel

            model = ImageModel.objects.get(provider__slug="openai", model_id="gpt-image-1.5")
            user = make_user()
            config = make_configuration(user)
            body = {
                "configId": str(config.pk),
                "prompt": "a fawn in a misty forest",
                "parameters": {"modelId": str(model.pk), "count": 1, "size": "1024x1024"},
            }
            client = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=False)
            client.force_login(user)

            def once() -> None:
                r = client.post("/api/generations/", body, content_type="application/json")
                if r.status_code != 201:
                    raise SystemExit(f"{r.status_code}: {r.content[:300]!r}")

            for _ in range(3):
                once()
            if args.sql:
                from django.db import connection
                from django.test.utils import CaptureQueriesContext

                User.objects.filter(pk=user.pk).update(usage_count=0)
                with CaptureQueriesContext(connection) as ctx:
                    once()
                print(f"{len(ctx.captured_queries)} statements in one generation:")
                for query in ctx.captured_queries:
                    print(f"  {query['time']:>6}s  {query['sql'][:160]}")
            profile = cProfile.Profile()
            took = []
            for _ in range(args.runs):
                User.objects.filter(pk=user.pk).update(usage_count=0)
                t0 = time.perf_counter()
                profile.enable()
                once()
                profile.disable()
                took.append(time.perf_counter() - t0)
            took.sort()
            print(f"in-process p50 {took[len(took) // 2] * 1000:.1f} ms over {args.runs} runs")
            stats = pstats.Stats(profile).sort_stats(args.sort)
            stats.print_stats(*([args.only] if args.only else []), args.top)
            if args.callers:
                stats.print_callers(args.callers)


if __name__ == "__main__":
    main()
