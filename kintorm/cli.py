"""The ``kintorm`` command.

Subcommands live in :data:`COMMANDS`: a name maps to a function that adds its
options to a subparser and a function that runs it and returns the exit code.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

from kintorm import schema_cli
from kintorm._version import __version__
from kintorm.cli_options import Command
from kintorm.server import KintoServer, ServerError
from kintorm.tools.commands import TOOL_COMMANDS
from kintorm.tools.replicate_command import REPLICATE

DEFAULT_PORT = 8888
#: the admin password of ``kintorm serve`` when --password is not given
PASSWORD_ENV = "KINTORM_ADMIN_PASSWORD"  # noqa: S105 (a variable name)


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


def _demo(args: argparse.Namespace) -> int:
    from kintorm.demo import main as demo_main

    return demo_main()  # it reports a missing server extra itself


COMMANDS: dict[str, Command] = {
    "serve": Command("run a local Kinto in the foreground", _configure_serve, _serve),
    "demo": Command("run the demo on an embedded Kinto", lambda parser: None, _demo),
    "replicate": REPLICATE,
    "schema": Command(
        "sync or check collections' JSON schemas from models", schema_cli.configure, schema_cli.run
    ),
    **TOOL_COMMANDS,
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
