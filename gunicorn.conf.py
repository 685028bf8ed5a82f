"""gunicorn settings for Bambi in production: `gunicorn bambi.wsgi -c gunicorn.conf.py`.

A generation holds its request for as long as the provider takes (seconds, up to
PROVIDER_READ_TIMEOUT), almost all of it waiting on the network. Threaded workers (gthread)
let one process hold many such calls at once: capacity is workers × threads in-flight
requests (2 × 256 = 512 by default). A waiting thread costs next to nothing (bench/
concurrency.py: ~1 MB of RSS per generation in flight at the burst's peak, 1.7 MB images),
so the thread count is sized for slow providers, not for the CPU; the CPU work of a generation
(~15–25 ms) is what a burst queues on. Database connections stay bounded by the per-process
psycopg pool (DATABASE_POOL_MAX), not by the thread count: a generation gives its connection
back during the provider call. Everything can be tuned from the environment.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 256)
# Pending connections the kernel queues while every thread is busy.
backlog = _int("GUNICORN_BACKLOG", 2048)

# The worker timeout must outlast the slowest legitimate request: a provider call may take
# PROVIDER_READ_TIMEOUT (120 s by default) plus the image download and storage writes.
_provider_read_timeout = _float("PROVIDER_READ_TIMEOUT", 120.0)
timeout = _int("GUNICORN_TIMEOUT", int(_provider_read_timeout) + 30)
# On deploy/restart, let in-flight generations finish instead of cutting them (and the
# user's reserved usage slot is given back by the app if a call is cut anyway).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", int(_provider_read_timeout) + 10)
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle workers now and then (jittered so they do not all restart together) to bound any
# slow memory growth.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)

# Behind a load balancer / reverse proxy: which addresses gunicorn believes about the scheme
# (X-Forwarded-Proto). The client's address is Bambi's business: TRUSTED_PROXY_COUNT.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Off by default: each worker imports the app itself, so nothing opened at import time (a
# database pool, a client) is ever shared across fork. GUNICORN_PRELOAD=1 saves some memory.
preload_app = os.environ.get("GUNICORN_PRELOAD", "0") == "1"

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# No query strings in the access log: the URL path and status are enough, and nothing a user
# typed ends up in the logs.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
