"""``python -m bench [--quick] [--only B1,B7] [--no-pg]``: kintorm vs kinto-http.

Starts a real Kinto (memory backend; PostgreSQL with 4 workers too when it is
reachable), seeds it, runs every workload with both clients on the same server,
prints a table and, for a full run, writes docs/benchmarks.md and its chart.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import pathlib
import sys
import time
from collections.abc import Iterator

import kinto_http

import kintorm
from bench import data_tools, harness, page, report, workloads
from bench.context import SEED_PLUGIN
from bench.workloads import BUCKET, MAPPER_MISSING, WORKLOADS, Ctx, Workload
from kintorm.server import KintoServer, postgresql_status

ROOT = pathlib.Path(__file__).resolve().parent.parent
PERMISSION_BACKEND = "bench.kinto_permission"
PG_DATABASE = "kintorm_bench"
PG_WORKERS = 4
# The server as the test suite starts it, minus the history plugin and attachments
# (both clients pay the same server cost, and history doubles every write), plus the
# bench's seeding endpoint (bench/kinto_seed.py: records written straight to storage).
SERVER_SETTINGS = {
    "kinto.includes": " ".join(
        (
            "kinto.plugins.default_bucket",
            "kinto.plugins.accounts",
            "kinto.plugins.flush",
            "kintorm.kinto_plugin",  # as deployed: atomic If-Match writes (no warning)
            SEED_PLUGIN,
        )
    )
}


def server_settings(kind: str, backend: str) -> dict[str, str]:
    """The Kinto settings of a bench server: ``"main"`` for the comparisons with
    kinto-http; ``"data"`` for the workloads that write thousands of records (B3, B8,
    and the data tools' B12, B13), which on the memory backend reads each object's
    permissions through an index (``bench/kinto_permission.py``: Kinto's own backend
    scans every entry for each record written or read, so that each run would cost
    more than the one before)."""
    settings = dict(SERVER_SETTINGS)
    if kind == "data" and backend == "memory":
        settings["kinto.permission_backend"] = PERMISSION_BACKEND
    return settings


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: sizes ÷10, 1 repetition, no docs"
    )
    parser.add_argument("--only", help="comma-separated ids, e.g. B1,B7 (B2 means B2a and B2b)")
    parser.add_argument("--no-pg", action="store_true", help="memory backend only")
    parser.add_argument("--reps", type=int, help="repetitions (default 5, 1 with --quick)")
    parser.add_argument(
        "--docs",
        type=pathlib.Path,
        help="write the report here (default docs/benchmarks.md on a full run)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a pyinstrument profile of each kintorm side"
    )
    parser.add_argument(
        "--pg-records",
        type=int,
        help=f"B13's records on PostgreSQL (default {data_tools.LOAD_RECORDS_PG:,})",
    )
    return parser.parse_args(argv)


def _names(wanted: str, workload_id: str) -> bool:
    """Whether ``wanted`` names the workload: its id, or the start of it up to a
    letter or dash (B2 names B2a and B2b, B1 names B1-3k, but not B10)."""
    ident = workload_id.upper()
    return ident.startswith(wanted) and not ident[len(wanted) : len(wanted) + 1].isdigit()


def selected(only: str | None) -> list[Workload]:
    if not only:
        return list(WORKLOADS)
    wanted = [w.strip().upper() for w in only.split(",") if w.strip()]
    chosen = [w for w in WORKLOADS if any(_names(x, w.id) for x in wanted)]
    unknown = [x for x in wanted if not any(_names(x, w.id) for w in WORKLOADS)]
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(unknown)}")
    return chosen


@contextlib.contextmanager
def running(backend: str, url: str | None, scale: float, kind: str = "main") -> Iterator[Ctx]:
    # the server's processes import bench.kinto_seed from this checkout
    path = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(path))
    settings = server_settings(kind, backend)
    if backend == "memory":
        server = KintoServer(settings=settings, attachments=False)
    else:
        server = KintoServer(
            storage_url=url, workers=PG_WORKERS, settings=settings, attachments=False
        )
    with server:
        auth = server.admin_auth
        client = kintorm.Client(server_url=server.url, auth=auth, bucket=BUCKET)
        anchor = kinto_http.Client(server_url=server.url, auth=auth, bucket=BUCKET)
        client.delete_bucket(id=BUCKET, if_exists=True)  # PostgreSQL keeps earlier runs
        client.create_bucket(id=BUCKET)
        ctx = Ctx(server, backend, scale, anchor, client)
        ctx.raw.auth = auth
        try:
            yield ctx
        finally:
            ctx.raw.close()
            client.close()


def run_workload(
    w: Workload, ctx: Ctx, reps: int, warmup: int, riders: list[Workload]
) -> list[report.Row]:
    """The rows of ``w`` and of the ``riders`` (workloads whose anchor is ``w``'s):
    one alternation over the anchor, ``w``'s kintorm side, each rider's and ``w``'s
    reference side (unless that one is measured apart, ``info_reps`` times)."""
    rows = [
        report.Row(
            x.id,
            ctx.backend,
            x.title,
            x.target,
            x.metric,
            x.limit,
            x.also,
            baseline=x.baseline,
            absolute=x.absolute,
            info_name="kinto-http" if x.info else "",
        )
        for x in (w, *riders)
    ]
    if w.mapper and workloads.Record is None:
        for row in rows:
            row.skipped = MAPPER_MISSING
        return rows
    sides = [lambda: w.anchor(ctx), *[lambda x=x: x.kintorm(ctx) for x in (w, *riders)]]
    together = w.info is not None and w.info_reps is None
    if w.info is not None:
        info_side = functools.partial(w.info, ctx)
        if together:
            sides.append(info_side)
    counts = [ctx.n(c) if c > 1 else 1 for c in w.per_call]  # one for all, or one a side
    per_call = counts * len(sides) if len(counts) == 1 else counts
    load0 = os.getloadavg()[0]
    anchor, *mine = harness.measure_sides(
        sides,
        reps=min(reps, w.reps or reps),
        warmup=min(warmup, w.warmup if w.warmup is not None else warmup),
        memory=w.memory,
        wire=w.wire,
        objects=w.objects,
        per_call=per_call,
    )
    info = mine.pop() if together else None
    if w.info is not None and w.info_reps is not None:
        (info,) = harness.measure_sides(
            [info_side], reps=w.info_reps, warmup=0, per_call=per_call[0]
        )
    if w.check is not None:
        try:
            rows[0].notes.append(w.check(ctx))
        except Exception as exc:  # reported in the table, as a side's error is
            mine[0].error = harness.describe(exc)
    load = (load0, os.getloadavg()[0])
    for row, stats in zip(rows, mine, strict=True):
        row.anchor, row.kintorm, row.load = anchor, stats, load
        row.info = info if row is rows[0] else None
        for name, side in ((row.baseline, anchor), ("kintorm", stats)):
            if side.note:
                row.notes.append(f"{name}: {side.note}")
            if side.error:
                row.notes.append(f"{name} failed: {side.error}")
        note = report.info_note(row)
        if note:
            row.notes.append(note)
    for row in rows[1:]:
        row.notes.append(
            f"the kinto-http figures are {w.id}'s (the same work), measured in the same "
            "alternation as both kintorm sides"
        )
    return rows


STAGES = (
    "wide",
    "read3k",
    "read10k",
    "read20k",
    "flat1k",
    "flat50k",
    "pages",
    "iterate",
    "data1k",
    "data20k",
)


def run_order(todo: list[Workload]) -> list[Workload]:
    """Workloads that seed their own data first, then those reading each shared
    collection in turn, so that a shared collection can be dropped once read."""
    return sorted(todo, key=lambda w: max((STAGES.index(u) for u in w.uses), default=-1))


def profile(w: Workload, ctx: Ctx) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("  (pyinstrument is not installed: no profile)")
        return
    fn = w.kintorm(ctx)
    profiler = Profiler(interval=0.0005)
    with profiler:
        fn()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def run_all(
    todo: list[Workload],
    ctx: Ctx,
    reps: int,
    warmup: int,
    args: argparse.Namespace,
    rows: list[report.Row],
    notes: list[str],
) -> None:
    """Run ``todo`` on one server, in ``run_order``, adding to ``rows`` and ``notes``."""
    ordered = run_order(todo)
    ids = {w.id for w in ordered}
    for n, w in enumerate(ordered):
        if w.anchor_of in ids:
            continue  # measured with the workload whose anchor it shares
        if w.id == "B2a":
            probe = workloads.probe_recursion(ctx)
            notes.append(f"B2 ({ctx.backend}): {probe}")
            print(probe, flush=True)
        t0 = time.monotonic()
        riders = [x for x in ordered if x.anchor_of == w.id]
        for row in run_workload(w, ctx, reps, warmup, riders):
            rows.append(row)
            print(report.render_text([row]).splitlines()[-1], flush=True)
            for note in row.notes:
                print(f"   {note}")
        print(f"   ({time.monotonic() - t0:.1f} s)", flush=True)
        ctx.release({u for later in ordered[n + 1 :] for u in later.uses})
        if args.profile and not rows[-1].skipped:
            profile(w, ctx)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # kinto-http logs a WARNING for every batch sub-response: keep stderr readable
    # (the message is still formatted, a cost kinto-http users pay too).
    logging.getLogger("kinto_http").setLevel(logging.ERROR)
    chosen = selected(args.only)
    notes: list[str] = []
    if args.pg_records is not None:  # B13 reads it when it runs
        data_tools.LOAD_RECORDS_PG = args.pg_records
        notes.append(f"B13 on PostgreSQL: {args.pg_records:,} records (--pg-records)")
    scale = 0.1 if args.quick else 1.0
    reps = args.reps or (1 if args.quick else 5)
    warmup = 0 if args.quick else 1
    began = time.monotonic()

    backends: list[tuple[str, str | None]] = [("memory", None)]
    if any("postgresql" in w.backends for w in chosen):
        if args.no_pg:
            notes.append("PostgreSQL: skipped (--no-pg)")
        else:
            url, reason = postgresql_status(PG_DATABASE)
            print(reason)
            if url is None:
                notes.append(f"PostgreSQL: skipped ({reason})")
            else:
                backends.append(("postgresql", url))
    if workloads.Record is None:
        notes.append(f"mapper rows: {MAPPER_MISSING}")

    rows: list[report.Row] = []
    for backend, url in backends:
        todo = [w for w in chosen if backend in w.backends]
        if not todo:
            continue
        label = backend if backend == "memory" else f"PostgreSQL, {PG_WORKERS} workers"
        for kind in dict.fromkeys(w.server for w in todo):
            print(f"\n== Kinto on {label} ({kind} server) ==", flush=True)
            with running(backend, url, scale, kind) as ctx:
                run_all([w for w in todo if w.server == kind], ctx, reps, warmup, args, rows, notes)
    ran = {backend for backend, _ in backends}
    for w in chosen:
        if not ran & set(w.backends):  # PostgreSQL only, and no PostgreSQL
            skip = "PostgreSQL not reachable" if not args.no_pg else "--no-pg"
            row = report.Row(w.id, w.backends[0], w.title, w.target, w.metric, w.limit)
            row.skipped = skip
            rows.append(row)

    place = {w.id: i for i, w in enumerate(WORKLOADS)}
    rows.sort(key=lambda r: (r.backend != "memory", place[r.id]))
    elapsed = time.monotonic() - began
    print()
    print(report.render_text(rows))
    for note in notes:
        print(f"* {note}")
    print(f"\n{len(rows)} row(s) in {elapsed:.1f} s ({reps} repetition(s), {warmup} warm-up)")

    docs = args.docs or (None if args.quick or args.only else ROOT / "docs" / "benchmarks.md")
    if docs is not None:
        page.write_docs(docs, rows, notes, reps, warmup, elapsed, PG_WORKERS)
        print(f"wrote {docs} and {docs.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
