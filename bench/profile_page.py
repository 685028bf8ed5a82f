"""Where one page's time goes, in-process: cProfile over Django's test client (the whole
middleware chain, session and user queries, the view, templates), DEBUG off, PostgreSQL.

    .venv/bin/python bench/profile_page.py [--url /dashboard/gallery/] [--requests 300] [--cold]

Seeds one user with 10,000 generations (bench/pages.py's rows). --cold empties the cache
before every request; --cold-cards renders every card again (a page seen for the first
time), the rest (counts, filter lists) staying cached. Prints the mean time per
request, the SQL statements of one request and the functions that cost the most.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from _harness import Stack, make_configuration, make_user  # noqa: I001
from pages import seed_generations


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="/dashboard/gallery/")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cold", action="store_true", help="empty the cache before each")
    parser.add_argument(
        "--cold-cards", action="store_true", help="no card rendered yet (the rest cached)"
    )
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    with Stack():
        from django.core.cache import cache
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from generations import cards

        user = make_user()
        seed_generations(user, make_configuration(user), 10_000)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for _ in range(20):
            assert client.get(args.url).status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            client.get(args.url)
        print(f"{len(ctx.captured_queries)} SQL statements:")
        for query in ctx.captured_queries:
            print(f"  {query['time']} s  {query['sql'][:150]}")

        plain = []
        for _ in range(args.requests):
            if args.cold:
                cache.clear()
            if args.cold_cards:
                cards.CARD_VERSION += 1
            t0 = time.perf_counter()
            client.get(args.url)
            plain.append((time.perf_counter() - t0) * 1000)
        plain.sort()
        print(
            f"\n{args.url}: p50 {plain[len(plain) // 2]:.2f} ms, "
            f"p95 {plain[int(len(plain) * 0.95)]:.2f} ms per request (not profiled)"
        )

        profile = cProfile.Profile()
        started = time.perf_counter()
        for _ in range(args.requests):
            if args.cold:
                cache.clear()
            if args.cold_cards:
                cards.CARD_VERSION += 1
            profile.enable()
            client.get(args.url)
            profile.disable()
        elapsed = time.perf_counter() - started
        print(f"\n{args.url}: {elapsed / args.requests * 1000:.2f} ms per request (profiled)")
        stats = pstats.Stats(profile).sort_stats("cumulative")
        stats.print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
