"""Page latency, SQL query counts and throughput with a big gallery.

    .venv/bin/python bench/pages.py [--requests 200] [--seconds 20] [--only /api/]

Seeds 10,000 generations (each with its image row) for one user and 100,000 generations in
total (nine other users with 10,000 each), plus a user with only 10. Then, through gunicorn
with the repo's gunicorn.conf.py as shipped (no workers/threads override) and DEBUG off:
  * two walks through the whole gallery by its "Older" links (417 pages: first with no card
    rendered yet, then again) and one through the API list by `pagination.next` (500 pages);
  * p50/p95 of every dashboard page for the 10,000-row user: the overview, generate, the
    gallery's first page, page 200 and the last page (as the "Older" links reach them, as
    `?oldest=1` and as legacy `?page=N` links), the gallery searched (one word every prompt
    has, and one only one prompt has) and filtered, keys, usage (every generation priced and
    in the running period: its worst case), billing, /api/generations/ at page 1 / 200 / 500
    (the last) by number and by cursor, and /api/usage/; the load average before each;
  * the SQL query count of each page (CaptureQueriesContext, in-process) for the 10-row user
    and the 10,000-row user: it must not grow with rows;
  * throughput: THREADS concurrent keep-alive clients for --seconds on the gallery's first
    page, a deep page and the overview: requests per second, p50/p95, errors.
Targets: p95 ≤ 30 ms per page, ≥ 120 requests per second on the gallery.
"""

from __future__ import annotations

import argparse
import html
import http.client
import re
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from _harness import Gunicorn, Stack, machine, make_configuration, make_user, pct, session_for

GALLERY_PAGE = 24  # generations.gallery.GALLERY_PAGE_SIZE
API_PAGE = 20  # generations.api.PAGE_SIZE
DEEP_PAGE = 200  # "page 200": 4,776 rows deep in the gallery, 3,980 in the API list

# {deep} / {last}: the gallery's own links to page 200 and to the last page, as a user who
# clicked "Older" gets them (`?before=<cursor>`); {api_deep} / {api_last}: the API's cursor to
# page 200 and to its last page. The legacy `?page=N` forms are what old links and API clients
# send.
PAGES = [
    "/dashboard/",
    "/dashboard/generate/",
    "/dashboard/gallery/",
    "/dashboard/gallery/?before={deep}",
    "/dashboard/gallery/?before={last}",
    "/dashboard/gallery/?oldest=1",
    "/dashboard/gallery/?page=200",
    "/dashboard/gallery/?page=417",
    "/dashboard/gallery/?q=fawn",
    "/dashboard/gallery/?q=4242",
    "/dashboard/gallery/?status=completed&provider=openai&hide_failed=1",
    "/dashboard/keys/",
    "/dashboard/usage/",
    "/dashboard/billing/",
    "/api/generations/",
    "/api/generations/?page=200",
    "/api/generations/?page=500",
    "/api/generations/?before={api_deep}",
    "/api/generations/?before={api_last}",
    "/api/usage/",
]
# Pages hammered by THREADS concurrent keep-alive clients for --seconds each.
THROUGHPUT_PAGES = ["/dashboard/gallery/", "/dashboard/gallery/?before={deep}", "/dashboard/"]
THREADS = 20
TARGET_RPS = 120
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
                # Priced, and all in the running period: the usage page's worst case.
                cost_estimate=Decimal("0.0340"),
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


def cursors(user) -> dict[str, str]:
    """The cursors of the pages measured (see PAGES), from the user's generations in the
    gallery's order: the row just before each page."""
    from generations.models import ImageGeneration
    from generations.selectors import Cursor

    rows = ImageGeneration.objects.filter(user=user).order_by("-created_at", "-pk")
    count = rows.count()

    def before(index: int) -> str:
        return Cursor.of(rows[min(max(index, 0), count - 1)]).encode()

    last_gallery = (count - 1) // GALLERY_PAGE * GALLERY_PAGE
    last_api = (count - 1) // API_PAGE * API_PAGE
    return {
        "deep": before((DEEP_PAGE - 1) * GALLERY_PAGE - 1),
        "last": before(last_gallery - 1),
        "api_deep": before((DEEP_PAGE - 1) * API_PAGE - 1),
        "api_last": before(last_api - 1),
    }


def query_counts(user) -> dict[str, tuple[int, int]]:
    """(status, number of SQL queries) per page, in-process with Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    marks = cursors(user)
    out = {}
    for page in PAGES:
        url = page.format(**marks)
        client.get(url)  # warm caches (sessions, content types) like a second visit
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        out[page] = (response.status_code, len(ctx.captured_queries))
    return out


class DefaultGunicorn(Gunicorn):
    """gunicorn with the repo's gunicorn.conf.py as shipped: no workers/threads override."""

    def __init__(self, env: dict[str, str]):
        super().__init__(env)
        for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS"):
            self.env.pop(name, None)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def settle(quiet: float = 1.0, longest: float = 60) -> str:
    """Wait (at most `longest` seconds) for the 1-minute load to fall below `quiet`, so a run
    does not start in the wake of the previous one; the load average then."""
    deadline = time.monotonic() + longest
    while float(load().split()[0]) >= quiet and time.monotonic() < deadline:
        time.sleep(2)
    return load()


def throughput(url: str, cookie: str, seconds: float) -> dict:
    """THREADS clients, each on its own keep-alive connection, asking for `url` in a loop for
    `seconds`: requests per second, p50/p95 latency, errors."""
    parsed = urlsplit(url)
    path = parsed.path + ("?" + parsed.query if parsed.query else "")
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS + 1)
    deadline = [0.0]

    def client() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        mine: list[float] = []
        mine_errors: list[str] = []
        start.wait()
        while time.monotonic() < deadline[0]:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    mine_errors.append(str(response.status))
                else:
                    mine.append(time.perf_counter() - t0)
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
            except (OSError, http.client.HTTPException) as exc:
                mine_errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        conn.close()
        with lock:
            timings.extend(mine)
            errors.extend(mine_errors)

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    ms = [t * 1000 for t in timings]
    return {
        "rps": len(timings) / elapsed,
        "p50": pct(ms, 50),
        "p95": pct(ms, 95),
        "ok": len(timings),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def walk(session, base: str, first: str, next_of, limit: int = 1000) -> tuple[list[float], int]:
    """Follow a list from `first` to its end as a user (or a client) would, timing each page:
    (timings, pages). `next_of(response)` is the next page's URL, or None on the last."""
    timings, url = [], first
    while url and len(timings) < limit:
        t0 = time.perf_counter()
        response = session.get(base + url, timeout=30)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code)
        url = next_of(response)
    return timings, len(timings)


def gallery_older(response) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', response.text)
    return html.unescape(found.group(1)) if found else None


def api_next(response) -> str | None:
    """`pagination.next`; by page number where the API has no cursors (before issue 17)."""
    pagination = response.json()["pagination"]
    if pagination.get("next"):
        return f"/api/generations/?before={pagination['next']}"
    if "next" not in pagination and pagination["page"] < pagination["pages"]:
        return f"/api/generations/?page={pagination['page'] + 1}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--seconds", type=float, default=20, help="each throughput run")
    parser.add_argument("--only", default="", help="measure only pages containing this")
    args = parser.parse_args()
    pages = [p for p in PAGES if args.only in p]

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

        marks = cursors(big)
        with DefaultGunicorn(stack.env) as app:
            session = session_for(big)
            cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
            # First: every page of the gallery, newest to oldest, by its "Older" links, and
            # every page of the API list by `pagination.next`; each page seen for the first
            # time (its cards not rendered yet), as a user paging through gets them.
            walks = {}
            if not args.only:
                before = settle()
                walks["gallery, newest → oldest by “Older” (cards not cached yet)"] = (
                    *walk(session, app.url, "/dashboard/gallery/", gallery_older),
                    before,
                )
                before = settle()
                walks["gallery, the same walk again (cards cached)"] = (
                    *walk(session, app.url, "/dashboard/gallery/", gallery_older),
                    before,
                )
                before = settle()
                walks["API list, every page by pagination.next (before: by ?page=N+1)"] = (
                    *walk(session, app.url, "/api/generations/", api_next),
                    before,
                )
            results = {}
            settle()
            for page in pages:
                url = app.url + page.format(**marks)
                statuses = set()
                for _ in range(10):  # warm-up: connections, template caches
                    statuses.add(session.get(url, timeout=30).status_code)
                before = load()
                timings = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    r = session.get(url, timeout=30)
                    timings.append(time.perf_counter() - t0)
                    statuses.add(r.status_code)
                results[page] = (statuses, timings, len(r.content), before)
            rates = {}
            for page in THROUGHPUT_PAGES:
                if args.only not in page:
                    continue
                url = app.url + page.format(**marks)
                before = settle()
                for _ in range(20):
                    session.get(url, timeout=30)
                rates[page] = (throughput(url, cookie, args.seconds), before)

        print()
        print(f"Machine: {machine()}")
        print(
            f"Rows: {total} generations (+ one image row each); the measured user has "
            f"{PER_USER}. {args.requests} sequential requests per page, gunicorn with the "
            "repo's gunicorn.conf.py defaults, DEBUG=0."
        )
        print()
        header = (
            f"{'page':68} {'load':>5} {'status':>6} {'p50 ms':>7} {'p95 ms':>7} {'bytes':>7} "
            f"{'SQL@10':>6} {'SQL@10k':>7}  verdict"
        )
        print(header)
        print("-" * len(header))
        for page in pages:
            statuses, timings, size, before = results[page]
            ms = [t * 1000 for t in timings]
            p50, p95 = pct(ms, 50), pct(ms, 95)
            q_small, q_big = small_counts[page][1], big_counts[page][1]
            # Queries must not grow with rows; compared where the 10-row user gets the same
            # page (a deep page or cursor is a 404 or an empty page for that user).
            same_page = small_counts[page][0] == 200 and "{" not in page and "page=" not in page
            ok = statuses == {200} and p95 <= TARGET_P95_MS and (q_big <= q_small or not same_page)
            status = ",".join(str(s) for s in sorted(statuses))
            print(
                f"{page:68} {before.split()[0]:>5} {status:>6} {p50:7.1f} {p95:7.1f} "
                f"{size:7d} {q_small:6d} {q_big:7d}  {'OK' if ok else 'MISS'}"
            )
        if walks:
            print()
            print("Walks (sequential, each page once):")
            for name, (timings, count, before) in walks.items():
                ms = [t * 1000 for t in timings]
                print(
                    f"  {name:62} load {before.split()[0]:>5}  {count} pages  "
                    f"p50 {pct(ms, 50):.1f} ms  p95 {pct(ms, 95):.1f} ms  max {max(ms):.1f} ms"
                )
        if rates:
            print()
            print(
                f"Throughput: {THREADS} concurrent keep-alive clients (threads, http.client), "
                f"{args.seconds:.0f} s per page"
            )
            header = (
                f"{'page':44} {'load before':>16} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
                f"{'ok':>6} {'errors':>6}  verdict"
            )
            print(header)
            print("-" * len(header))
            for page, (rate, before) in rates.items():
                ok = rate["errors"] == 0 and rate["rps"] >= TARGET_RPS
                print(
                    f"{page:44} {before:>16} {rate['rps']:7.1f} {rate['p50']:7.1f} "
                    f"{rate['p95']:7.1f} {rate['ok']:6d} {rate['errors']:6d}  "
                    f"{'OK' if ok else 'MISS'} {' '.join(rate['error_kinds'])}"
                )


if __name__ == "__main__":
    main()
