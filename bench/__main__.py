"""Run the benchmarks and print a table: `python -m bench [--quick]`.

Everything runs on this machine against one local webhook sink in its own process.
Nothing is asserted; the figures are for the README and for spotting regressions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from sqlalchemy import text

from app.db import make_engine
from bench import api, coverage, engine, exchange, guardrails, naive, transports, validation
from bench.common import Report, sink

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/cadence_bench"


def ensure_pg_database(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    admin = make_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        return True
    except Exception as exc:
        print(f"PostgreSQL runs skipped: {type(exc).__name__}: {exc}")
        return False
    finally:
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--posts", type=int, default=5000, help="posts due at once in the throughput runs"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pg", default=os.environ.get("CADENCE_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="transports naive sqlite postgres realistic second memory coverage text api "
        "import guardrails",
    )
    args = parser.parse_args()
    n = 500 if args.quick else args.posts
    c = args.concurrency
    want = set(
        args.only
        or [
            "transports",
            "naive",
            "sqlite",
            "postgres",
            "realistic",
            "second",
            "memory",
            "coverage",
            "text",
            "api",
            "import",
            "guardrails",
        ]
    )
    report = Report()
    figures: dict[str, float] = {}
    workdir = Path(tempfile.mkdtemp(prefix="cadence-bench-"))
    sqlite_url = f"sqlite:///{workdir / 'bench.db'}"
    pg = (
        ensure_pg_database(args.pg)
        if want & {"postgres", "realistic", "second", "memory", "coverage"}
        else False
    )
    print(f"benchmarks: {n} posts, concurrency {c}, work files in {workdir}")

    with sink() as url:
        if "transports" in want:
            report.add(
                "raw aiohttp loop",
                posts_per_s=asyncio.run(transports.raw_aiohttp(url, n * 2, c)),
                note="the ceiling",
            )
            report.add(
                "httpx, default transport",
                posts_per_s=asyncio.run(transports.with_httpx(url, n, c, fast=False)),
            )
            figures["httpx"] = asyncio.run(transports.with_httpx(url, n * 2, c, fast=True))
            report.add("httpx over aiohttp (Cadence's)", posts_per_s=figures["httpx"])
        if "naive" in want:
            r = naive.run(url, n, c, workdir)
            figures["naive"] = r["per_second"]
            report.add(
                "naive: APScheduler job per post",
                add_s=r["add_seconds"],
                deliveries_per_s=r["per_second"],
                lag_p50_s=r["lag_p50"],
                lag_p99_s=r["lag_p99"],
                dropped=int(r["dropped"]),
                note="SQLAlchemyJobStore on SQLite, thread pool",
            )
        common = {"posts": n, "channels": 100, "workdir": workdir, "publish_concurrency": c}
        if "sqlite" in want:
            r = engine.run(sqlite_url, sink_url=url, workers=1, **common)
            figures["sqlite"] = r["per_second"]
            report.add(
                "Cadence, SQLite, 1 worker",
                deliveries_per_s=r["per_second"],
                lag_p50_s=r["lag_p50"],
                lag_p99_s=r["lag_p99"],
                duplicates=int(r["duplicates"]),
                missing=int(r["missing"]),
                note="100 channels",
            )
        if pg and "postgres" in want:
            for workers in (1, 3):
                r = engine.run(args.pg, sink_url=url, workers=workers, **common)
                figures[f"postgres{workers}"] = r["per_second"]
                report.add(
                    f"Cadence, PostgreSQL, {workers} worker(s)",
                    deliveries_per_s=r["per_second"],
                    lag_p50_s=r["lag_p50"],
                    lag_p99_s=r["lag_p99"],
                    duplicates=int(r["duplicates"]),
                    missing=int(r["missing"]),
                    note="100 channels",
                )
        if "second" in want:
            target = args.pg if pg else sqlite_url
            r = engine.run(
                target,
                sink_url=url,
                workers=3 if pg else 1,
                posts=1000,
                channels=100,
                workdir=workdir,
                publish_concurrency=c,
            )
            figures["second_p99"] = r["lag_p99"]
            report.add(
                "1,000 posts due in the same second",
                lag_p50_s=r["lag_p50"],
                lag_p99_s=r["lag_p99"],
                note="PostgreSQL, 3 workers" if pg else "SQLite, 1 worker",
            )
    if "realistic" in want:
        with sink(delay_ms=200) as slow_url:
            target = args.pg if pg else sqlite_url
            r = engine.run(
                target,
                sink_url=slow_url,
                workers=3 if pg else 1,
                posts=200 if args.quick else 2000,
                channels=100,
                workdir=workdir,
                publish_concurrency=c,
            )
            report.add(
                "realistic: sink answers in 200 ms, 100 channels, 2,000 posts",
                deliveries_per_s=r["per_second"],
                lag_p50_s=r["lag_p50"],
                lag_p99_s=r["lag_p99"],
                note="per-channel order kept",
            )
    if "memory" in want:
        with sink() as url:
            target = args.pg if pg else sqlite_url
            r = engine.rss_with_future_posts(
                target, posts=10_000 if args.quick else 100_000, sink_url=url, workdir=workdir
            )
            figures["rss_mb"] = r["rss_mb"]
            report.add("worker RSS, 100,000 future posts", rss_mb=r["rss_mb"])
    if "coverage" in want:
        posts = 50_000 if args.quick else 1_000_000
        targets = [("SQLite", sqlite_url)] + ([("PostgreSQL", args.pg)] if pg else [])
        for label, target in targets:
            r = coverage.run(target, posts=posts)
            report.add(
                f"coverage, 50 objectives x 90 days, {posts:,} posts, {label}",
                seconds=r["seconds"],
                cells=int(r["cells"]),
                posts_counted=int(r["planned"]),
                note=f"filling took {r['fill_seconds']:.0f} s",
            )
    if "text" in want:
        for shape, timings in validation.run().items():
            report.add(
                f"X validation, {shape}",
                ms_1k=timings[1_000] * 1000,
                ms_5k=timings[5_000] * 1000,
                ms_10k=timings[10_000] * 1000,
                ratio_10k_1k=timings[10_000] / timings[1_000],
                note="linear is about 10",
            )
    if "api" in want:
        r = api.run(workdir, repeats=50 if args.quick else 200)
        figures["create_p50_ms"] = r["create_p50_ms"]
        report.add(
            "API: GET /healthz vs POST /posts, SQLite",
            healthz_p50_ms=r["healthz_p50_ms"],
            create_p50_ms=r["create_p50_ms"],
            ratio=r["ratio"],
            target=f"<= {api.TARGET_RATIO:.0f}x",
            note="uvicorn in-process on 127.0.0.1, real HTTP, one objective, one webhook channel",
        )
        report.add(
            "API: 1,000 posts in one batch vs 100 single creates, SQLite",
            batch_1000_s=r["batch_1000_s"],
            hundred_singles_s=r["hundred_singles_s"],
            note="POST /posts/batch against 100 x POST /posts",
        )
    if "import" in want:
        r = exchange.run(workdir, rows=500 if args.quick else 5000)
        figures["import_s"] = r["import_s"] if not args.quick else float("nan")
        figures["import_cpu_s"] = r["import_cpu_s"] if not args.quick else float("nan")
        report.add(
            f"spreadsheet import, {int(r['rows']):,} rows, SQLite",
            import_s=r["import_s"],
            cpu_s=r["import_cpu_s"],
            dry_run_s=r["dry_run_s"],
            kib=r["bytes"] / 1024,
            target=f"<= {exchange.TARGET_SECONDS:g} s",
            note="POST /posts/import over real HTTP, names resolved, local times",
        )
        report.add(
            f"reference: the same {int(r['rows']):,} posts via POST /posts/batch, SQLite",
            batch_s=r["batch_s"],
            cpu_s=r["batch_cpu_s"],
            import_over_batch_cpu=r["import_cpu_s"] / r["batch_cpu_s"],
            note="1,000 a batch, ids not names, same server and run",
        )
    if "guardrails" in want:
        g = guardrails.run(workdir)
        report.add(
            "Guardrails: 10,000-character text vs 1,000 guardrails, SQLite",
            check_10k_ms=g["check_10k_ms"],
            check_1k_ms=g["check_1k_ms"],
            build_and_scan_10k_ms=g["build_and_scan_10k_ms"],
            create_p50_ms=figures.get("create_p50_ms", float("nan")),
            note="the check a post create runs; create_p50 is the API row's (run with api)",
        )
    print()
    print(report.markdown())
    print()
    print(target_table(figures))


def target_table(figures: dict[str, float]) -> str:
    """The speed targets, as ratios of figures measured in this run (so a busy machine
    slows both sides alike)."""
    lines = ["| target | measured | goal | met |", "|---|---|---|---|"]

    def row(name: str, value: float | None, goal: float, higher: bool, unit: str = "") -> None:
        if value is None:
            return
        met = value >= goal if higher else value <= goal
        sign = ">=" if higher else "<="
        lines.append(
            f"| {name} | {value:.2f}{unit} | {sign} {goal:g}{unit} | {'yes' if met else 'NO'} |"
        )

    def ratio(a: str, b: str) -> float | None:
        return figures[a] / figures[b] if a in figures and b in figures and figures[b] else None

    for key, label in (("sqlite", "SQLite, 1 worker"), ("postgres3", "PostgreSQL, 3 workers")):
        row(f"{label} / httpx-over-aiohttp loop", ratio(key, "httpx"), 0.6, True)
        row(f"{label} / naive APScheduler peer", ratio(key, "naive"), 2.0, True)
    row("p99 lag, 1,000 posts due in one second", figures.get("second_p99"), 1.0, False, " s")
    row("worker RSS, 100,000 future posts", figures.get("rss_mb"), 150, False, " MB")
    if figures.get("import_s") == figures.get("import_s"):  # not NaN: a full-size run
        row("spreadsheet import, 5,000 rows, SQLite", figures.get("import_s"), 5.0, False, " s")
        row("the same, CPU time", figures.get("import_cpu_s"), 5.0, False, " s")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
