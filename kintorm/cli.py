"""The ``kintorm`` command.

Subcommands live in :data:`COMMANDS`: a name maps to a function that adds its
options to a subparser and a function that runs it and returns the exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from kintorm import schema_cli
from kintorm._version import __version__
from kintorm.server import KintoServer, ServerError

DEFAULT_PORT = 8888
#: the admin password of ``kintorm serve`` when --password is not given
PASSWORD_ENV = "KINTORM_ADMIN_PASSWORD"  # noqa: S105 (a variable name)


class Command(NamedTuple):
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the serve loop."""


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default %(default)s; 0.0.0.0 for every interface)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default %(default)s)"
    )
    parser.add_argument(
        "--password",
        default=os.environ.get(PASSWORD_ENV) or None,
        help=f"password of the admin account (default: ${PASSWORD_ENV}, which other users "
        "cannot see in ps; else a random one, printed)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds start-up may go without progress before giving up (default %(default)s)",
    )
    parser.add_argument(
        "--storage-url",
        help="postgresql:// URL for storage, permissions and cache (default: memory)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (>1 needs --storage-url)"
    )
    parser.add_argument(
        "--setting",
        dest="settings",
        action="append",
        type=_setting,
        default=[],
        metavar="KEY=VALUE",
        help="ini setting, repeatable (e.g. kinto.paginate_by=5)",
    )
    parser.add_argument(
        "--attachments",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="kinto_attachment plugin (default: on when installed)",
    )


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _progress(line: str) -> None:
    print(f"kintorm serve: {line}", file=sys.stderr, flush=True)


def _ready_lines(server: KintoServer, given_password: bool) -> list[str]:
    """What a user pastes into another shell to use the server."""
    user, password = server.admin_auth
    auth = f"{user}:{password}"
    if given_password:
        return [  # the password is the user's own: not echoed
            f"admin account: {user}, with the password you gave (KINTO_AUTH={user}:...)",
            f"export KINTO_URL={shlex.quote(server.url)}",
        ]
    return [
        f"admin credentials: {auth}",
        f"export KINTO_URL={shlex.quote(server.url)} KINTO_AUTH={shlex.quote(auth)}",
    ]


def _serve(args: argparse.Namespace) -> int:
    try:
        server = KintoServer(
            storage_url=args.storage_url,
            settings=dict(args.settings),
            workers=args.workers,
            port=args.port or None,
            host=args.host,
            attachments=args.attachments,
            startup_timeout=args.timeout,
            admin_password=args.password,
            progress=_progress,
        )
    except ValueError as e:
        print(f"kintorm serve: {e}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            server.start()
        except ServerError as e:
            print(f"kintorm serve: {e}", file=sys.stderr)
            return 1
        backend = "postgresql" if args.storage_url else "memory"
        lines = [
            f"Kinto running at {server.url} ({backend}, {args.workers} worker(s), "
            f"pid {server.pid}, ready in {server.startup_seconds or 0:.2f}s)",
            *_ready_lines(server, args.password is not None),
            f"log: {server.log_path}",
            "Press Ctrl-C to stop.",
        ]
        print("\n".join(lines), flush=True)
        while server.running:
            time.sleep(0.5)
        print(f"kintorm serve: Kinto exited; log tail:\n{server.log_tail()}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("stopping", flush=True)
        return 0
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


# --- replicate ------------------------------------------------------------------

#: environment variables naming the destination server and its credentials
URL_ENV, AUTH_ENV = "KINTO_URL", "KINTO_AUTH"
#: seconds between two progress lines
PROGRESS_INTERVAL = 2.0


def _configure_replicate(parser: argparse.ArgumentParser) -> None:
    from kintorm import cli_utils
    from kintorm.replication import DEFAULT_PAGE_SIZE

    parser.description = (
        "Copy a collection (its metadata, permissions and records) from an origin Kinto "
        "to a destination Kinto, a page at a time. The destination is given by "
        f"-s/-a/-b/-c (or ${URL_ENV} and ${AUTH_ENV}); the origin options default to the "
        "destination's, and the destination's bucket and collection to the origin's. "
        "Interrupted, it prints the --since that resumes it."
    )
    cli_utils.set_parser_server_options(parser, default_server=os.environ.get(URL_ENV))
    parser.add_argument("-o", "--origin", help="origin server URL, with /v1 (default: --server)")
    parser.add_argument(
        "--origin-auth",
        type=cli_utils.parse_auth,
        help="origin credentials, as --auth (default: --auth when the origin is the same "
        "server; none for another server)",
    )
    parser.add_argument("--origin-bucket", help="origin bucket (default: --bucket)")
    parser.add_argument("--origin-collection", help="origin collection (default: --collection)")
    parser.add_argument(
        "--since",
        type=int,
        metavar="TIMESTAMP",
        help="copy only what changed after this origin timestamp, deletions included "
        "(resume an interrupted copy, or bring a copy up to date)",
    )
    parser.add_argument(
        "--page-size",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        help="records read per request (default %(default)s)",
    )
    parser.add_argument(
        "--no-permissions",
        dest="permissions",
        action="store_false",
        help="do not copy each record's permissions (saves a read per batch)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress line on stderr every few seconds (default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--progress-interval", type=float, default=PROGRESS_INTERVAL, help=argparse.SUPPRESS
    )


class _ProgressLine:
    """Prints a progress line to stderr at most every ``interval`` seconds."""

    def __init__(self, enabled: bool, interval: float) -> None:
        self.enabled = enabled
        self.interval = interval
        self.last_shown = float("-inf")
        self.latest: Any = None

    def __call__(self, progress: Any) -> None:
        self.latest = progress
        now = time.monotonic()
        if self.enabled and now - self.last_shown >= self.interval:
            self.last_shown = now
            print(f"kintorm replicate: {_describe(progress)}", file=sys.stderr, flush=True)


def _describe(progress: Any) -> str:
    return (
        f"{progress.records:,} records ({progress.written:,} written, "
        f"{progress.deleted:,} deleted), {progress.rate:,.0f} records/s, "
        f"{progress.elapsed:.1f} s, copied up to {progress.timestamp}"
    )


def _resume_hint(progress: Any) -> str:
    if progress is None or progress.timestamp is None:
        return "nothing was copied: run the same command again"
    return f"resume with --since {progress.timestamp}"


def _origin_of(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _same_origin_auth(args: argparse.Namespace, auth: Any) -> Any:
    """The destination's credentials for the origin only when both are one server:
    credentials never go to another origin (give --origin-auth for it)."""
    if args.origin is None or _origin_of(args.origin) == _origin_of(args.server):
        return auth
    return None


def _replicate(args: argparse.Namespace) -> int:
    from kintorm import cli_utils
    from kintorm.client import Client, KintoException
    from kintorm.replication import ReplicationError, logger, replicate

    cli_utils.setup_logger(logger, args)
    auth = cli_utils.auth_from_args(args)
    if not args.server:
        print(f"kintorm replicate: no server: give -s/--server or set ${URL_ENV}", file=sys.stderr)
        return 2
    bucket = args.origin_bucket or args.bucket
    collection = args.origin_collection or args.collection
    for name, value, flags in (
        ("bucket", bucket, "-b or --origin-bucket"),
        ("collection", collection, "-c or --origin-collection"),
    ):
        if not value:
            print(f"kintorm replicate: no {name}: give {flags}", file=sys.stderr)
            return 2
    try:
        destination = Client(
            server_url=args.server,
            auth=auth,
            bucket=args.bucket or bucket,
            collection=args.collection or collection,
            retry=args.retry,
            retry_after=args.retry_after,
        )
        origin = Client(
            server_url=args.origin or args.server,
            auth=args.origin_auth
            if args.origin_auth is not None
            else _same_origin_auth(args, auth),
            bucket=bucket,
            collection=collection,
            retry=args.retry,
            retry_after=args.retry_after,
        )
    except (ValueError, TypeError) as e:
        print(f"kintorm replicate: {e}", file=sys.stderr)
        return 2
    show = sys.stderr.isatty() if args.progress is None else args.progress
    line = _ProgressLine(show, args.progress_interval)
    try:
        progress = replicate(
            origin,
            destination,
            since=args.since,
            page_size=args.page_size,
            permissions=args.permissions,
            on_progress=line,
        )
    except ReplicationError as e:
        print(f"kintorm replicate: {e.message}\n{_resume_hint(e.progress)}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, KintoException) as e:
        print(f"kintorm replicate: {e}", file=sys.stderr)
        return 2 if isinstance(e, ValueError | TypeError) else 1
    except KeyboardInterrupt:
        print(f"kintorm replicate: interrupted; {_resume_hint(line.latest)}", file=sys.stderr)
        return 130
    if args.verbosity != logging.CRITICAL:  # -q
        print(
            f"replicated {origin!r} to {destination!r}: {_describe(progress)}\n"
            f"next incremental run: --since {progress.timestamp}"
        )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from kintorm.demo import main as demo_main

    return demo_main()  # it reports a missing server extra itself


def _tool_commands() -> dict[str, Command]:
    from kintorm.tools.commands import TOOL_COMMANDS

    return {name: Command(*command) for name, command in TOOL_COMMANDS.items()}


COMMANDS: dict[str, Command] = {
    "serve": Command("run a local Kinto in the foreground", _configure_serve, _serve),
    "demo": Command("run the demo on an embedded Kinto", lambda parser: None, _demo),
    "replicate": Command(
        "copy a collection from one Kinto to another", _configure_replicate, _replicate
    ),
    "schema": Command(
        "sync or check collections' JSON schemas from models", schema_cli.configure, schema_cli.run
    ),
    **_tool_commands(),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kintorm", description="kintorm command line")
    parser.add_argument("--version", action="version", version=f"kintorm {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
