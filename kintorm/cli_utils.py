"""Command-line helpers, as in kinto-http: parser options, logging, a client from args."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
from collections.abc import Sequence
from typing import Any

from kintorm.client.auth import TokenAuth
from kintorm.client.sync import Client

__all__ = [
    "AUTH_ENV",
    "URL_ENV",
    "add_parser_options",
    "auth_from_args",
    "create_client_from_args",
    "parse_auth",
    "set_parser_server_options",
    "setup_logger",
]


#: environment variables naming the server and its credentials (the flags win)
URL_ENV, AUTH_ENV = "KINTO_URL", "KINTO_AUTH"


def parse_auth(value: str) -> TokenAuth | tuple[str, str]:
    """``"Bearer tok"`` -> BearerTokenAuth-like; ``"user:pass"`` -> a tuple; ``"user"``
    asks for the password. The scheme word is checked before splitting on ``:``."""
    colon, space = value.find(":"), value.find(" ")
    if space != -1 and (colon == -1 or space < colon):
        scheme, token = value.split(" ", 1)
        return TokenAuth(token, type=scheme)
    if colon == -1:
        return value, getpass.getpass(f"Please enter a password for {value}: ")
    user, password = value.split(":", 1)
    return user, password


class _AuthAction(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, parse_auth(str(values)) if values else None)


#: The verbosity flags: (short, long, level, help).
_VERBOSITY = (
    ("-v", "--verbose", logging.INFO, "Show all messages."),
    ("-q", "--quiet", logging.CRITICAL, "Show only critical errors."),
    ("-D", "--debug", logging.DEBUG, "Show all messages, including debug messages."),
)


def set_parser_server_options(
    parser: argparse.ArgumentParser | None = None,
    default_server: str | None = None,
    default_auth: str | None = None,
    default_retry: int = 0,
    default_retry_after: int | None = None,
    default_ignore_batch_4xx: bool = False,
    default_bucket: str | None = None,
    default_collection: str | None = None,
    include_bucket: bool = True,
    include_collection: bool = True,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Add kinto-http's server options to ``parser`` (a new one when None)."""
    parser = parser or argparse.ArgumentParser(**kwargs)
    parser.add_argument("-s", "--server", help="Kinto server URL, with /v1", default=default_server)
    parser.add_argument(
        "-a",
        "--auth",
        help="'user:password' or an Authorization header value such as 'Bearer <token>'",
        default=parse_auth(default_auth) if default_auth else None,
        action=_AuthAction,
    )
    if include_bucket:
        parser.add_argument("-b", "--bucket", help="Bucket id.", default=default_bucket)
    if include_collection:
        parser.add_argument("-c", "--collection", help="Collection id.", default=default_collection)
    parser.add_argument(
        "--retry", help="Retries of a failed request", type=int, default=default_retry
    )
    parser.add_argument(
        "--retry-after",
        help="Seconds between retries (default: the server's Retry-After)",
        type=int,
        default=default_retry_after,
    )
    parser.add_argument(
        "--ignore-batch-4xx",
        help="Do not fail on 4xx errors in batch requests.",
        default=default_ignore_batch_4xx,
        action="store_true",
    )
    for short, long, level, text in _VERBOSITY:
        parser.add_argument(
            short, long, action="store_const", const=level, dest="verbosity", help=text
        )
    return parser


add_parser_options = set_parser_server_options


def setup_logger(logger: logging.Logger, args: argparse.Namespace) -> None:
    """Log to stderr at the level chosen by -v/-q/-D."""
    logger.addHandler(logging.StreamHandler())
    if getattr(args, "verbosity", None):
        logger.setLevel(args.verbosity)


def create_client_from_args(args: argparse.Namespace) -> Client:
    """A Client from parsed server options."""
    return Client(
        server_url=args.server,
        auth=args.auth,
        bucket=getattr(args, "bucket", None),
        collection=getattr(args, "collection", None),
        retry=args.retry,
        retry_after=args.retry_after,
        ignore_batch_4xx=getattr(args, "ignore_batch_4xx", False),
    )


def auth_from_args(args: argparse.Namespace) -> Any:
    """The credentials of ``-a/--auth``, else of ``$KINTO_AUTH``, else None."""
    auth = getattr(args, "auth", None)
    if auth is None and os.environ.get(AUTH_ENV):
        auth = parse_auth(os.environ[AUTH_ENV])
    return auth
