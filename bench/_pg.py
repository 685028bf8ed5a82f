"""A throwaway PostgreSQL server on loopback for the benchmarks (same recipe as scripts/test).

    with Postgres() as pg:          # initdb in a temp dir, start on a free port
        pg.url                      # postgres://postgres@127.0.0.1:<port>/bambi
        pg.connections("bambi")     # rows in pg_stat_activity for that database

BENCH_PGDATA=/some/dir keeps the cluster between runs; the benchmark harness then also keeps
a migrated template database so a second run skips Django's (slow) migrations.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not candidates:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql).")
    return Path(candidates[-1])


def _run_pg(args: list[str]) -> None:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
    else:
        cmd = args
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


class Postgres:
    def __init__(self, max_connections: int = 300) -> None:
        self.max_connections = max_connections
        keep = os.environ.get("BENCH_PGDATA")
        self.keep = bool(keep)
        self.dir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bambi-bench-pg."))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.bin = _pg_bin()

    @property
    def admin_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        return self.url_for("bambi")

    def start(self) -> Postgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.dir.chmod(0o700)
        data = self.dir / "data"
        if not (data / "PG_VERSION").exists():
            _run_pg(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        opts = (
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections={self.max_connections}"
        )
        _run_pg(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.dir / "server.log"),
                "-w",
                "-o",
                opts,
                "start",
            ]
        )
        return self

    def stop(self) -> None:
        try:
            _run_pg(
                [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"]
            )
        except subprocess.CalledProcessError:
            pass
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def database_exists(self, dbname: str) -> bool:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        return row is not None

    def connections(self, dbname: str = "bambi") -> int:
        """Client connections open on `dbname` right now (pg_stat_activity)."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [dbname]
            ).fetchone()
        return int(row[0])
