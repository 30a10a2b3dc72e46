"""kintorm.cli_utils: parser options, auth parsing, logger setup, client from args."""

from __future__ import annotations

import argparse
import logging

import pytest

from kintorm import TokenAuth
from kintorm.cli_utils import (
    add_parser_options,
    create_client_from_args,
    parse_auth,
    set_parser_server_options,
    setup_logger,
)

from ._wire import SERVER, Wire


def test_parser_options() -> None:
    parser = set_parser_server_options()
    argv = "-s URL -a alice:s3cret -b bk -c co --retry 3 --retry-after 2 --ignore-batch-4xx -D"
    args = parser.parse_args([SERVER if a == "URL" else a for a in argv.split()])
    assert (args.server, args.auth, args.bucket, args.collection) == (
        SERVER,
        ("alice", "s3cret"),
        "bk",
        "co",
    )
    assert (args.retry, args.retry_after, args.ignore_batch_4xx) == (3, 2, True)
    assert args.verbosity == logging.DEBUG


def test_parser_long_options_and_defaults() -> None:
    parser = add_parser_options(
        argparse.ArgumentParser(),
        default_server="http://x/v1",
        default_auth="Bearer tok",
        default_bucket="main",
        default_retry=1,
    )
    args = parser.parse_args(["--collection", "c", "--verbose"])
    assert (args.server, args.bucket, args.collection, args.retry) == (
        "http://x/v1",
        "main",
        "c",
        1,
    )
    assert args.auth == TokenAuth("tok")
    assert args.verbosity == logging.INFO
    assert parser.parse_args(["-q"]).verbosity == logging.CRITICAL
    assert parser.parse_args([]).verbosity is None


def test_parser_without_bucket_and_collection() -> None:
    parser = set_parser_server_options(include_bucket=False, include_collection=False)
    args = parser.parse_args(["--server", SERVER])
    assert not hasattr(args, "bucket") and not hasattr(args, "collection")
    with pytest.raises(SystemExit):
        parser.parse_args(["-b", "x"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("user:pass", ("user", "pass")),
        ("user:pa:ss", ("user", "pa:ss")),
        ("Bearer tok", TokenAuth("tok", type="Bearer")),
        ("Bearer+OIDC tok:with:colons", TokenAuth("tok:with:colons", type="Bearer+OIDC")),
    ],
)
def test_parse_auth(value: str, expected: object) -> None:
    assert parse_auth(value) == expected


def test_parse_auth_asks_for_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or "typed")
    assert parse_auth("alice") == ("alice", "typed")
    assert prompts == ["Please enter a password for alice: "]


def test_setup_logger() -> None:
    logger = logging.getLogger("kintorm.test-cli-utils")
    args = set_parser_server_options().parse_args(["-v"])
    setup_logger(logger, args)
    try:
        assert logger.level == logging.INFO
        assert any(isinstance(h, logging.StreamHandler) for h in logger.handlers)
    finally:
        logger.handlers.clear()


@pytest.mark.parametrize(
    ("auth", "header"),
    [("alice:s3cret", "Basic YWxpY2U6czNjcmV0"), ("Bearer+OIDC a:b", "Bearer+OIDC a:b")],
)
def test_create_client_from_args(sync_wire: Wire, auth: str, header: str) -> None:
    parser = set_parser_server_options()
    args = parser.parse_args(["-s", SERVER, "-a", auth, "-b", "bk", "-c", "co", "--retry", "2"])
    client = create_client_from_args(args)
    assert (client.server_url, client.bucket_name, client.collection_name) == (SERVER, "bk", "co")
    assert client._session.retry == 2
    sync_wire.ok("GET", "/buckets/bk/collections/co/records", [])
    assert client.get_records() == []
    sent = sync_wire.calls[0]
    assert sent.path == "/v1/buckets/bk/collections/co/records"
    assert sent.headers["Authorization"] == header
