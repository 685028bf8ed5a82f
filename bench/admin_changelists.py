"""The admin's changelists with 100,000 rows: time per page (in-process, Django's test client,
DEBUG off, PostgreSQL) and the COUNT statements each page view runs.

    .venv/bin/python bench/admin_changelists.py [--requests 30]

Seeds 100,000 generations (10 users × 10,000, one image row each, bench/pages.py's rows) and
100,000 usage rows, then asks each changelist unfiltered, filtered and searched.
"""

from __future__ import annotations

import argparse
import time

from _harness import Stack, make_configuration, make_user, pct  # noqa: I001
from pages import seed_generations

PAGES = [
    "/admin/generations/imagegeneration/",
    "/admin/generations/imagegeneration/?p=200",
    "/admin/generations/imagegeneration/?status__exact=completed",
    "/admin/generations/imagegeneration/?q=fawn",
    "/admin/generations/image/",
    "/admin/generations/image/?p=200",
    "/admin/generations/apiusage/",
    "/admin/generations/apiusage/?p=200",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    with Stack():
        from django.db import connection
        from django.test import Client

        from generations.models import ApiUsage, ImageGeneration

        started = time.monotonic()
        for _ in range(10):
            user = make_user()
            config = make_configuration(user)
            seed_generations(user, config, 10_000)
            generations = ImageGeneration.objects.filter(user=user).values_list("pk", flat=True)
            ApiUsage.objects.bulk_create(
                [
                    ApiUsage(
                        user=user, configuration=config, provider=config.provider, generation_id=pk
                    )
                    for pk in generations
                ],
                batch_size=2000,
            )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
        admin = make_user(is_staff=True, is_superuser=True)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(admin)
        print(f"{'page':64} {'p50 ms':>7} {'p95 ms':>7} {'SQL':>4} {'COUNTs':>6}")
        for url in PAGES:
            for _ in range(3):
                assert client.get(url).status_code == 200, url
            statements: list[tuple[float, str]] = []

            def timed(execute, sql, params, many, context, statements=statements):
                t0 = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    statements.append(((time.perf_counter() - t0) * 1000, sql))

            with connection.execute_wrapper(timed):
                client.get(url)
            counts = [sql for _ms, sql in statements if "COUNT(" in sql.upper()]
            slowest = max(statements)
            timings = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - t0) * 1000)
            print(
                f"{url:64} {pct(timings, 50):7.1f} {pct(timings, 95):7.1f} "
                f"{len(statements):4d} {len(counts):6d}   slowest {slowest[0]:.1f} ms: "
                f"{slowest[1][:90]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
