"""What kintorm's commands share: their options, the client they make, and how they
exit.

Conventions: the server and credentials come from ``-s``/``-a``, else
``$KINTO_URL``/``$KINTO_AUTH``; errors go to stderr as ``kintorm NAME: ...``; the exit
status is 0 on success, 1 on a failure (a server error, an entry that could not be
written), 2 on a usage error, 130 on Ctrl-C (after a summary of what was done).
Progress bars go to stderr, only on a terminal unless ``--progress`` says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from kintorm import cli_utils
from kintorm.client.exceptions import KintoException
from kintorm.client.sync import Client
from kintorm.tools.progress import Bar
from kintorm.tools.reading import DEFAULT_PAGE_SIZE

__all__ = [
    "EXIT_STATUSES",
    "Command",
    "Stopped",
    "Usage",
    "client",
    "collection_options",
    "guarded",
    "progress_option",
    "reading",
    "reading_options",
    "say",
    "server",
    "server_options",
    "with_progress",
]

T = TypeVar("T")

#: the exit statuses, as every command's --help ends with them
EXIT_STATUSES = "Exit status: 0 done, 1 failed, 2 usage error, 130 interrupted."


class Usage(Exception):
    """A usage error: exit 2 with its message."""


class Stopped(Exception):
    """Work that stopped part-way: exit with ``status`` after its message (what was
    done, and how to resume)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Command(NamedTuple):
    """A subcommand: its help, the options it adds, and what runs it."""

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def say(name: str, text: str) -> None:
    """``text`` on stderr, as ``kintorm NAME: text``."""
    print(f"kintorm {name}: {text}", file=sys.stderr, flush=True)


def guarded(name: str, run: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """``run`` with the shared exits: usage errors 2, server errors 1, stopped work
    its own status (see :func:`with_progress`)."""

    def command(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except Usage as exc:
            say(name, str(exc))
            return 2
        except Stopped as exc:
            say(name, str(exc))
            return exc.status
        except KintoException as exc:
            say(name, str(exc))
            return 1

    return command


def with_progress(
    name: str,
    total: int | None,
    args: argparse.Namespace,
    work: Callable[[Bar], T],
    *,
    interrupted: Callable[[Any], str],
    failed: Callable[[KintoException, Any], str],
) -> T:
    """``work(bar)`` under the command's progress bar (``--progress``), counting to
    ``total`` (None: unknown). Ctrl-C stops it as ``interrupted: `` then
    ``interrupted(latest)`` (status 130), a server error with ``failed(error, latest)``
    (status 1); ``latest`` is the last progress the bar was given (None before any)."""
    with Bar(name, total, enabled=args.progress) as bar:
        try:
            return work(bar)
        except KeyboardInterrupt:
            raise Stopped(130, f"interrupted: {interrupted(bar.latest)}") from None
        except KintoException as exc:
            raise Stopped(1, failed(exc, bar.latest)) from exc


# --- options --------------------------------------------------------------------


def server_options(
    parser: argparse.ArgumentParser,
    *,
    bucket: bool = False,
    collection: bool = False,
    exits: str = EXIT_STATUSES,
) -> None:
    """kinto-http's server options (``-s``, ``-a``, ``--retry``, ..., and ``-b``/``-c``
    when asked), ``-s`` defaulting to ``$KINTO_URL``; the help ends with where they
    come from and the command's exit statuses (``exits``)."""
    cli_utils.set_parser_server_options(
        parser,
        default_server=os.environ.get(cli_utils.URL_ENV),
        include_bucket=bucket,
        include_collection=collection,
    )
    parser.epilog = (
        f"The server and credentials come from -s/-a, else ${cli_utils.URL_ENV} and "
        f"${cli_utils.AUTH_ENV}. {exits}"
    )


def _location(text: str) -> tuple[str, str]:
    bucket, sep, collection = text.partition("/")
    if not sep or not bucket or not collection or "/" in collection:
        raise argparse.ArgumentTypeError(f"expected BUCKET/COLLECTION, got {text!r}")
    return bucket, collection


def collection_options(parser: argparse.ArgumentParser, what: str) -> None:
    """The server options and the ``BUCKET/COLLECTION`` argument (``args.location``)."""
    server_options(parser)
    parser.add_argument(
        "location", type=_location, metavar="BUCKET/COLLECTION", help=f"the collection {what}"
    )


def progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress``/``--no-progress`` (``args.progress``: None means on a terminal)."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a progress bar on stderr (default: when stderr is a terminal)",
    )


def _whole(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum`` (``what`` names it in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what} >= {minimum}, got {text!r}")
        return value

    return parse


def reading_options(parser: argparse.ArgumentParser, *, since: str, permissions: str) -> None:
    """How a collection is read (dump, replicate): ``--since`` (with its ``since`` help),
    ``--page-size`` and ``--no-permissions`` (``args.permissions``, with its help)."""
    parser.add_argument(
        "--since", type=_whole(0, "a timestamp (a whole number)"), metavar="TIMESTAMP", help=since
    )
    parser.add_argument(
        "--page-size",
        type=_whole(1, "a whole number"),
        default=DEFAULT_PAGE_SIZE,
        help="records read per request (default %(default)s)",
    )
    parser.add_argument(
        "--no-permissions", dest="permissions", action="store_false", help=permissions
    )


def reading(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of :func:`reading_options`' values, as ``dump()`` and
    ``replicate()`` take them (``since``, ``page_size``, ``permissions``)."""
    return {"since": args.since, "page_size": args.page_size, "permissions": args.permissions}


# --- the client -----------------------------------------------------------------


def server(args: argparse.Namespace) -> str:
    """The command's server: ``-s``, else ``$KINTO_URL`` (a :class:`Usage` error without)."""
    if not args.server:
        raise Usage(f"no server: give -s/--server or set ${cli_utils.URL_ENV}")
    return str(args.server)


def client(args: argparse.Namespace, **kwargs: Any) -> Client:
    """A client with the command's ``--retry`` options: of the command's server and
    credentials (``-s``/``-a``, else ``$KINTO_URL``/``$KINTO_AUTH``) unless ``kwargs``
    name ``server_url`` and ``auth``; ``kwargs`` also give ``bucket`` and ``collection``.
    No server, or a value the client refuses, is a :class:`Usage` error."""
    if "server_url" not in kwargs:
        kwargs = {"server_url": server(args), "auth": cli_utils.auth_from_args(args), **kwargs}
    try:
        return Client(retry=args.retry, retry_after=args.retry_after, **kwargs)
    except (ValueError, TypeError) as exc:
        raise Usage(str(exc)) from exc
