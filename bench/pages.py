"""Page latency and SQL query counts with a big gallery.

    .venv/bin/python bench/pages.py [--requests 200]

Seeds 10,000 generations (each with its image row) for one user and 100,000 generations in
total (nine other users with 10,000 each), plus a user with only 10. Then:
  * p50/p95 over HTTP, through gunicorn with DEBUG off, of every dashboard page for the
    10,000-row user: the overview, generate (with its latest results), the gallery's first
    page, a page in the middle of the gallery (`?before=<cursor>`: keyset, no OFFSET), the
    gallery searched (one word every prompt has, and one only one prompt has) and filtered,
    keys, billing and /api/generations/;
  * the SQL query count of each page (CaptureQueriesContext, in-process) for the 10-row user
    and the 10,000-row user: it must not grow with rows.
Target: p95 ≤ 30 ms per page.
"""

from __future__ import annotations

import argparse
import time

from _harness import Gunicorn, Stack, machine, make_configuration, make_user, pct, session_for

PAGES = [
    "/dashboard/",
    "/dashboard/generate/",
    "/dashboard/gallery/",
    "/dashboard/gallery/?before={middle}",
    "/dashboard/gallery/?q=fawn",
    "/dashboard/gallery/?q=4242",
    "/dashboard/gallery/?status=completed&provider=openai&hide_failed=1",
    "/dashboard/keys/",
    "/dashboard/billing/",
    "/api/generations/",
]
TARGET_P95_MS = 30
PER_USER = 10_000
OTHER_USERS = 9


def seed_generations(user, config, count: int, batch: int = 5_000, first: int = 0) -> None:
    from django.db import connection

    from byok.models import ImageModel
    from generations.models import Image, ImageGeneration

    model = ImageModel.objects.filter(provider=config.provider).first()
    done = 0
    while done < count:
        n = min(batch, count - done)
        generations = [
            ImageGeneration(
                user=user,
                configuration=config,
                model=model,
                provider=config.provider,
                prompt=f"bench prompt {first + done + i}: a fawn in a misty forest, golden hour",
                parameters={"size": "1024x1024", "count": 1, "quality": "auto"},
                status=ImageGeneration.Status.COMPLETED,
                duration_ms=2100,
            )
            for i in range(n)
        ]
        ImageGeneration.objects.bulk_create(generations, batch_size=1000)
        Image.objects.bulk_create(
            [
                Image(
                    generation=g,
                    index=0,
                    storage_path=f"images/{user.pk}/{g.pk}/0.png",
                    thumbnail_path=f"images/{user.pk}/{g.pk}/0.thumb.webp",
                    width=1024,
                    height=1024,
                    format="png",
                    bytes=1_600_000,
                )
                for g in generations
            ],
            batch_size=1000,
        )
        done += n
    # Spread creation dates over a year so ordering and pagination work on real data.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE generations_imagegeneration SET created_at = now() - random() * "
            "interval '365 days' WHERE user_id = %s",
            [user.pk],
        )
        # What autovacuum does on a live database: statistics, and the GIN index's pending
        # list merged (a bulk insert leaves 10,000 rows there, which every search would scan).
        cursor.execute("VACUUM ANALYZE generations_imagegeneration")


def middle_cursor(user) -> str:
    """The gallery cursor of the user's generation halfway down the gallery (a deep page)."""
    from generations.models import ImageGeneration
    from generations.selectors import Cursor

    rows = ImageGeneration.objects.filter(user=user).order_by("-created_at", "-pk")
    count = rows.count()
    return Cursor.of(rows[count // 2]).encode()


def query_counts(user) -> dict[str, tuple[int, int]]:
    """(status, number of SQL queries) per page, in-process with Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    middle = middle_cursor(user)
    out = {}
    for page in PAGES:
        url = page.format(middle=middle)
        client.get(url)  # warm caches (sessions, content types) like a second visit
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        out[page] = (response.status_code, len(ctx.captured_queries))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    args = parser.parse_args()

    with Stack() as stack:
        print("seeding rows ...", flush=True)
        started = time.monotonic()
        big = make_user()
        big_config = make_configuration(big)
        seed_generations(big, big_config, PER_USER)
        for _ in range(OTHER_USERS):
            other = make_user()
            seed_generations(other, make_configuration(other), PER_USER)
        small = make_user()
        # Numbered 4237-4246: the rare search (q=4242) finds one prompt for both users.
        seed_generations(small, make_configuration(small), 10, first=4237)
        from generations.models import ImageGeneration

        total = ImageGeneration.objects.count()
        print(f"  {total} generations in {time.monotonic() - started:.0f} s", flush=True)

        small_counts = query_counts(small)
        big_counts = query_counts(big)

        middle = middle_cursor(big)
        with Gunicorn(stack.env, workers=2, threads=8) as app:
            session = session_for(big)
            results = {}
            for page in PAGES:
                url = app.url + page.format(middle=middle)
                statuses = set()
                for _ in range(10):  # warm-up: connections, template caches
                    statuses.add(session.get(url, timeout=30).status_code)
                timings = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    r = session.get(url, timeout=30)
                    timings.append(time.perf_counter() - t0)
                    statuses.add(r.status_code)
                results[page] = (statuses, timings, len(r.content))

        print()
        print(f"Machine: {machine()}")
        print(
            f"Rows: {total} generations (+ one image row each); the measured user has "
            f"{PER_USER}. {args.requests} sequential requests per page, gunicorn 2×8, DEBUG=0."
        )
        print()
        header = (
            f"{'page':68} {'status':>6} {'p50 ms':>7} {'p95 ms':>7} {'bytes':>7} "
            f"{'SQL@10':>6} {'SQL@10k':>7}  verdict"
        )
        print(header)
        print("-" * len(header))
        for page in PAGES:
            statuses, timings, size = results[page]
            ms = [t * 1000 for t in timings]
            p50, p95 = pct(ms, 50), pct(ms, 95)
            q_small, q_big = small_counts[page][1], big_counts[page][1]
            ok = statuses == {200} and p95 <= TARGET_P95_MS and q_big <= q_small
            status = ",".join(str(s) for s in sorted(statuses))
            print(
                f"{page:68} {status:>6} {p50:7.1f} {p95:7.1f} {size:7d} {q_small:6d} "
                f"{q_big:7d}  {'OK' if ok else 'MISS'}"
            )


if __name__ == "__main__":
    main()
