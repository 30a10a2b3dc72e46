"""The ``kintorm dump``, ``kintorm load`` and ``kintorm inspect`` commands
(``replicate`` is in :mod:`kintorm.tools.replicate_command`), with the conventions
of :mod:`kintorm.cli_options`: the server and credentials from flags or
``$KINTO_URL``/``$KINTO_AUTH``, the collection as ``BUCKET/COLLECTION``, errors on
stderr, exit statuses 0, 1, 2 and 130 (after a summary of what was done).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import IO

from kintorm import cli_options
from kintorm.cli_options import Command, Stopped, Usage, guarded, say, with_progress
from kintorm.client.sync import Client
from kintorm.tools.dump import DumpProgress, dump
from kintorm.tools.load import LoadProgress, load
from kintorm.tools.progress import Bar
from kintorm.tools.reading import count

__all__ = ["TOOL_COMMANDS"]

#: failed ids listed in a load's summary (the rest are counted)
SHOWN_FAILURES = 20


def client_from(args: argparse.Namespace) -> Client:
    """The client of the command's server options and ``BUCKET/COLLECTION``."""
    bucket, collection = args.location
    return cli_options.client(args, bucket=bucket, collection=collection)


# --- dump -----------------------------------------------------------------------


def _configure_dump(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write a collection's records, with their permissions, as JSON lines (one record a "
        "line), oldest change first, a page at a time. With --since, only what changed after "
        "that timestamp, deletions (tombstones) included."
    )
    cli_options.collection_options(parser, "to dump")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    cli_options.reading_options(
        parser,
        since="only the changes after this timestamp, tombstones included",
        permissions="leave out each record's permissions (saves a read per batch)",
    )
    cli_options.progress_option(parser)


def _describe_dump(progress: DumpProgress | None) -> str:
    if progress is None:
        return "nothing was written"
    return (
        f"{progress.records:,} records and {progress.tombstones:,} tombstones in "
        f"{progress.elapsed:.1f} s; next incremental dump: --since {progress.timestamp}"
    )


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as out:
        yield out


def _dump(args: argparse.Namespace) -> int:
    client = client_from(args)
    total = count(client, args.since)

    def work(bar: Bar) -> DumpProgress:
        try:
            with _output(args.output) as out:
                return dump(client, out, **cli_options.reading(args), on_progress=bar, total=total)
        except OSError as exc:
            raise Stopped(1, str(exc)) from exc

    progress = with_progress(
        "dump",
        total,
        args,
        work,
        interrupted=_describe_dump,
        failed=lambda exc, latest: f"{exc}\nstopped after {_describe_dump(latest)}",
    )
    if args.verbosity != logging.CRITICAL:  # -q
        say("dump", _describe_dump(progress))
    return 0


# --- load -----------------------------------------------------------------------


def _configure_load(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write the JSON lines of `kintorm dump` into a collection, in batches of the "
        "server's batch_max_requests, with conditional writes: run again after an "
        "interruption, it resumes without duplicating or failing on what was written. "
        "Tombstones delete. Entries that cannot be written are listed at the end."
    )
    parser.add_argument("file", metavar="FILE", help="the JSON lines to load ('-' for stdin)")
    cli_options.collection_options(parser, "to load into (created when missing)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace every record unconditionally (default: conditional writes, which "
        "refuse to replace a newer version)",
    )
    parser.add_argument(
        "--skip", type=int, default=0, metavar="LINES", help="pass over the first LINES lines"
    )
    cli_options.progress_option(parser)


def _describe_load(progress: LoadProgress | None) -> str:
    if progress is None:
        return "nothing was written"
    return (
        f"{progress.lines:,} lines: {progress.written:,} written, {progress.unchanged:,} "
        f"already there, {progress.deleted:,} deleted, {len(progress.failures):,} failed, "
        f"in {progress.elapsed:.1f} s"
    )


def _failures(progress: LoadProgress) -> str:
    lines = [
        f"  line {f.line}: {f.id or '(no id)'}: {f.status or ''} {f.message}".rstrip()
        for f in progress.failures[:SHOWN_FAILURES]
    ]
    more = len(progress.failures) - SHOWN_FAILURES
    if more > 0:
        lines.append(f"  ... and {more:,} more")
    ids = ", ".join(str(i) for i in progress.failed_ids)
    return "\n".join([f"{len(progress.failures):,} entries failed:", *lines, f"failed ids: {ids}"])


def _stopped(latest: LoadProgress | None) -> str:
    resume = f" (or --skip {latest.lines})" if latest is not None else ""
    return f"{_describe_load(latest)}; run the same command again{resume} to resume"


def _lines(path: str) -> int | None:
    if path == "-":
        return None
    with open(path, encoding="utf-8") as source:
        return sum(1 for line in source if line.strip())


@contextlib.contextmanager
def _input(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    with open(path, encoding="utf-8") as source:
        yield source


def _load(args: argparse.Namespace) -> int:
    if args.skip < 0:
        raise Usage(f"--skip must be >= 0, not {args.skip}")
    client = client_from(args)
    try:
        total = _lines(args.file)
    except OSError as exc:
        raise Usage(str(exc)) from exc

    def work(bar: Bar) -> LoadProgress:
        with _input(args.file) as source:
            return load(
                client,
                source,
                overwrite=args.overwrite,
                skip=args.skip,
                on_progress=bar,
                total=total,
            )

    progress = with_progress(
        "load",
        total,
        args,
        work,
        interrupted=_stopped,
        failed=lambda exc, latest: f"{exc}\nstopped: {_stopped(latest)}",
    )
    if progress.failures:
        say("load", f"{_describe_load(progress)}\n{_failures(progress)}")
        return 1
    if args.verbosity != logging.CRITICAL:  # -q
        print(f"loaded {args.file} into {client!r}: {_describe_load(progress)}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from kintorm.tools.inspection import model_source

    client = client_from(args)
    print(model_source(client, sample=args.sample, class_name=args.name), end="")
    return 0


def _configure_inspect(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Print the source of an attrs model (a kintorm Record) for a collection: from its "
        "JSON schema when it has one, else inferred from a sample of its records."
    )
    cli_options.collection_options(parser, "to inspect")
    parser.add_argument(
        "--sample",
        type=int,
        default=1000,
        help="records read to infer the fields (default %(default)s)",
    )
    parser.add_argument("--name", help="the class name (default: from the collection id)")


TOOL_COMMANDS: dict[str, Command] = {
    "dump": Command("write a collection as JSON lines", _configure_dump, guarded("dump", _dump)),
    "load": Command("write JSON lines into a collection", _configure_load, guarded("load", _load)),
    "inspect": Command(
        "print an attrs model for a collection", _configure_inspect, guarded("inspect", _inspect)
    ),
}
