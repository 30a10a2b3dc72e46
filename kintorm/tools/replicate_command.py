"""The ``kintorm replicate`` command: :func:`kintorm.replication.replicate` with the
data tools' progress bar, summaries and exit statuses (see :mod:`kintorm.cli_options`).

The destination is given by ``-s``/``-a``/``-b``/``-c`` (or ``$KINTO_URL`` and
``$KINTO_AUTH``); the origin options default to the destination's, and the
destination's bucket and collection to the origin's. The destination's credentials
go to the origin only when both are one server (scheme, host and port).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any
from urllib.parse import urlsplit

from kintorm import cli_options, cli_utils
from kintorm.cli_options import Command, Stopped, Usage, guarded, with_progress
from kintorm.client.exceptions import KintoException
from kintorm.client.sync import Client
from kintorm.replication import Progress, ReplicationError, checked, logger, replicate
from kintorm.tools.progress import Bar
from kintorm.tools.reading import count

__all__ = ["REPLICATE"]


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Copy a collection (its metadata, permissions and records) from an origin Kinto "
        "to a destination Kinto, a page at a time. The destination is given by "
        f"-s/-a/-b/-c (or ${cli_utils.URL_ENV} and ${cli_utils.AUTH_ENV}); the origin "
        "options default to the destination's, and the destination's bucket and "
        "collection to the origin's. Interrupted, it prints the --since that resumes it."
    )
    cli_options.server_options(parser, bucket=True, collection=True)
    parser.add_argument("-o", "--origin", help="origin server URL, with /v1 (default: --server)")
    parser.add_argument(
        "--origin-auth",
        type=cli_utils.parse_auth,
        help="origin credentials, as --auth (default: --auth when the origin is the same "
        "server; none for another server)",
    )
    parser.add_argument("--origin-bucket", help="origin bucket (default: --bucket)")
    parser.add_argument("--origin-collection", help="origin collection (default: --collection)")
    cli_options.reading_options(
        parser,
        since="copy only what changed after this origin timestamp, deletions included "
        "(resume an interrupted copy, or bring a copy up to date)",
        permissions="do not copy each record's permissions (saves a read per batch)",
    )
    cli_options.progress_option(parser)


def _describe(progress: Progress) -> str:
    return (
        f"{progress.records:,} records ({progress.written:,} written, "
        f"{progress.deleted:,} deleted), {progress.rate:,.0f} records/s, "
        f"{progress.elapsed:.1f} s, copied up to {progress.timestamp}"
    )


def _resume_hint(progress: Progress | None) -> str:
    if progress is None or progress.timestamp is None:
        return "nothing was copied: run the same command again"
    return f"resume with --since {progress.timestamp}"


def _stopped(progress: Progress | None) -> str:
    """What an interrupted copy did, and how to resume it."""
    if progress is None or progress.timestamp is None:
        return _resume_hint(progress)
    return f"{_describe(progress)}; {_resume_hint(progress)}"


def _failed(exc: KintoException, latest: Progress | None) -> str:
    """A copy stopped by an error: the error, and how to resume."""
    if isinstance(exc, ReplicationError):  # it carries the progress made
        return f"{exc.message}\n{_resume_hint(exc.progress)}"
    return f"{exc}\n{_resume_hint(latest)}"


def _origin_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _origin_auth(args: argparse.Namespace, auth: Any) -> Any:
    """``--origin-auth``, else the destination's credentials when both are one server:
    credentials never go to another origin."""
    if args.origin_auth is not None:
        return args.origin_auth
    if args.origin is None or _origin_of(args.origin) == _origin_of(args.server):
        return auth
    return None


def _clients(args: argparse.Namespace) -> tuple[Client, Client]:
    """(origin, destination) of the command line."""
    server = cli_options.server(args)
    bucket = args.origin_bucket or args.bucket
    collection = args.origin_collection or args.collection
    for name, value, flags in (
        ("bucket", bucket, "-b or --origin-bucket"),
        ("collection", collection, "-c or --origin-collection"),
    ):
        if not value:
            raise Usage(f"no {name}: give {flags}")
    auth = cli_utils.auth_from_args(args)
    destination = cli_options.client(
        args,
        server_url=server,
        auth=auth,
        bucket=args.bucket or bucket,
        collection=args.collection or collection,
    )
    origin = cli_options.client(
        args,
        server_url=args.origin or server,
        auth=_origin_auth(args, auth),
        bucket=bucket,
        collection=collection,
    )
    return origin, destination


def _run(args: argparse.Namespace) -> int:
    cli_utils.setup_logger(logger, args)
    origin, destination = _clients(args)
    try:  # replicate()'s own checks, before the bar's first request
        checked(origin, destination, since=args.since, page_size=args.page_size)
    except (ValueError, TypeError) as exc:
        raise Usage(str(exc)) from exc
    try:
        total = count(origin, args.since)  # what the bar counts to
    except KintoException as exc:
        raise Stopped(1, _failed(exc, None)) from exc

    def work(bar: Bar) -> Progress:
        return replicate(origin, destination, **cli_options.reading(args), on_progress=bar)

    progress = with_progress("replicate", total, args, work, interrupted=_stopped, failed=_failed)
    if args.verbosity != logging.CRITICAL:  # -q
        print(
            f"replicated {origin!r} to {destination!r}: {_describe(progress)}\n"
            f"next incremental run: --since {progress.timestamp}"
        )
    return 0


REPLICATE = Command(
    "copy a collection from one Kinto to another", _configure, guarded("replicate", _run)
)
