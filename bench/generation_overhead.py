"""What Bambi adds to a generation, measured side by side with the direct call.

    .venv/bin/python bench/generation_overhead.py [--runs 40] [--slow-runs 12]

The stand-in makes a 1024×1024 PNG (gpt-image-1.5, OpenAI dialect, base64). For each upstream
latency (0 s and 2 s), pairs of calls alternate:
  direct  POST {stand-in}/v1/images/generations, parse the JSON, decode the base64 image
          (what a client calling the provider itself does);
  Bambi   POST /api/generations/ through gunicorn (DEBUG off): validation, quota reserve,
          the same provider call, decoding, file + WebP thumbnail written, rows committed.
Reported: p50/p95 of each, of the pairwise difference (Bambi − direct) and the ratio of p50s,
and where Bambi's time goes: the p50 of each step it reports in its Server-Timing header
(bambi/timing.py), `app` being the whole request inside Django and `outside` what the HTTP
server, the network and the client add around it.
gunicorn runs with the repo's gunicorn.conf.py as shipped (its default workers and threads).
Targets (issue 17): overhead p50 ≤ 10 ms at 0 s, and Bambi ≤ 1.005× direct at 2 s latency.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from pathlib import Path

from _harness import (
    Gunicorn,
    Stack,
    StandInProcess,
    machine,
    make_configuration,
    make_user,
    pct,
    point_providers_at,
    server_timing,
    session_for,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import requests  # noqa: E402

KEY = "sk-bench-good-key"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40, help="pairs at 0 s latency")
    parser.add_argument("--slow-runs", type=int, default=12, help="pairs at 2 s latency")
    args = parser.parse_args()

    with Stack() as stack, StandInProcess(latency=0.0) as standin:
        point_providers_at(standin.url)
        from accounts.models import User
        from byok.models import ImageModel

        model = ImageModel.objects.get(provider__slug="openai", model_id="gpt-image-1.5")
        user = make_user()
        config = make_configuration(user, key=KEY)
        body = {
            "configId": str(config.pk),
            "prompt": "a fawn in a misty forest",
            "parameters": {"modelId": str(model.pk), "count": 1, "size": "1024x1024"},
        }
        direct_body = {
            "model": "gpt-image-1.5",
            "prompt": body["prompt"],
            "n": 1,
            "size": "1024x1024",
        }

        with Gunicorn(
            stack.env,
            # The stand-in is on loopback: let it through the network guard by name.
            PROVIDER_PRIVATE_HOSTS=standin.host_port,
            # One user sends every request of the run: the per-minute limit is not measured.
            RATE_LIMIT_GENERATIONS_PER_MINUTE="0",
        ) as app:
            bambi = session_for(user)
            direct = requests.Session()
            direct.headers["Authorization"] = f"Bearer {KEY}"

            def call_direct() -> float:
                t0 = time.perf_counter()
                r = direct.post(
                    f"{standin.url}/v1/images/generations", json=direct_body, timeout=60
                )
                r.raise_for_status()
                image = base64.b64decode(r.json()["data"][0]["b64_json"])
                assert image[:8] == b"\x89PNG\r\n\x1a\n"
                return time.perf_counter() - t0

            steps: dict[float, dict[str, list[float]]] = {}

            def call_bambi() -> float:
                t0 = time.perf_counter()
                r = bambi.post(f"{app.url}/api/generations/", json=body, timeout=60)
                elapsed = time.perf_counter() - t0
                if r.status_code != 201:
                    raise SystemExit(f"Bambi answered {r.status_code}: {r.text[:300]}")
                timings = server_timing(r.headers.get("Server-Timing", ""))
                timings["outside"] = elapsed * 1000 - timings.get("app", 0.0)
                for name, ms in timings.items():
                    steps.setdefault(standin.latency, {}).setdefault(name, []).append(ms)
                return elapsed

            rows = []
            for latency, runs in ((0.0, args.runs), (2.0, args.slow_runs)):
                standin.latency = latency
                for _ in range(3):  # warm-up: connections, imports, caches
                    call_direct()
                    call_bambi()
                steps.pop(latency, None)
                direct_t, bambi_t, diff = [], [], []
                for i in range(runs):
                    # Free plan: keep the user under the monthly limit (outside the clock).
                    User.objects.filter(pk=user.pk).update(usage_count=0)
                    # Alternate the order so neither side always runs on a warmer machine.
                    if i % 2:
                        d, b = call_direct(), call_bambi()
                    else:
                        b, d = call_bambi(), call_direct()
                    direct_t.append(d)
                    bambi_t.append(b)
                    diff.append(b - d)
                rows.append((latency, runs, direct_t, bambi_t, diff))

        print()
        print(f"Machine: {machine()}")
        print(
            "gpt-image-1.5 stand-in, 1024×1024 PNG (~1.7 MB, 2.2 MB of base64), sequential "
            f"pairs, gunicorn as gunicorn.conf.py ships it ({app.workers}×{app.threads}), DEBUG=0"
        )
        print()
        header = (
            f"{'latency':>7} {'pairs':>5} {'direct p50':>10} {'Bambi p50':>10} "
            f"{'Bambi p95':>10} {'overhead p50':>12} {'overhead p95':>12} {'ratio':>6}"
        )
        print(header)
        print("-" * len(header))
        for latency, runs, direct_t, bambi_t, diff in rows:
            ms = lambda xs, p: pct([x * 1000 for x in xs], p)  # noqa: E731
            ratio = pct(bambi_t, 50) / pct(direct_t, 50)
            print(
                f"{latency:6.1f}s {runs:5d} {ms(direct_t, 50):8.1f}ms {ms(bambi_t, 50):8.1f}ms "
                f"{ms(bambi_t, 95):8.1f}ms {ms(diff, 50):10.1f}ms {ms(diff, 95):10.1f}ms "
                f"{ratio:5.3f}×"
            )
        print()
        print("Where Bambi's time goes (p50 of each Server-Timing step, ms; `other` = app minus")
        print("the steps: session, user, middleware, the JSON answer):")
        for latency, by_step in steps.items():
            medians = {name: pct(values, 50) for name, values in by_step.items()}
            named = [n for n in medians if n not in ("app", "outside")]
            other = medians.get("app", 0.0) - sum(medians[n] for n in named)
            shown = ", ".join(f"{n} {medians[n]:.1f}" for n in named)
            print(
                f"  {latency:.0f} s: {shown}, other {other:.1f} | app {medians.get('app', 0):.1f}"
                f", outside {medians.get('outside', 0):.1f}"
            )
        fast, slow = rows[0], rows[1]
        overhead_ok = pct(fast[4], 50) * 1000 <= 10
        ratio_ok = pct(slow[3], 50) / pct(slow[2], 50) <= 1.005
        print()
        print(
            f"verdict: overhead p50 ≤ 10 ms at 0 s {'OK' if overhead_ok else 'MISS'}; "
            f"≤ 1.005× at 2 s {'OK' if ratio_ok else 'MISS'}"
        )


if __name__ == "__main__":
    main()
