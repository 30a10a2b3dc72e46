"""``kintorm schema sync|check module:Model`` against a real Kinto: the difference
printed, confirmation (``--yes``, a terminal's answer, refusal without a terminal),
``--dry-run``, exit codes for CI, errors on stderr, the server from flags or
$KINTO_URL / $KINTO_AUTH."""

from __future__ import annotations

import io
from typing import Any

import pytest

from kintorm import Client
from kintorm.cli import main

from .models import Item

MODEL = "tests.orm.models:Item"


@pytest.fixture
def flags(kinto_client: Client, kinto_admin_auth: tuple[str, str]) -> list[str]:
    return [
        "-s",
        kinto_client.server_url,
        "-a",
        "{}:{}".format(*kinto_admin_auth),
        "-b",
        str(kinto_client.bucket_name),
    ]


def _schema(client: Client) -> Any:
    return client.get_collection(id="items")["data"].get("schema")


def _terminal(monkeypatch: pytest.MonkeyPatch, answer: str | None) -> None:
    stdin = io.StringIO(answer or "")
    monkeypatch.setattr(stdin, "isatty", lambda: answer is not None)
    monkeypatch.setattr("sys.stdin", stdin)


def test_check_fails_until_sync_yes_writes(
    flags: list[str], kinto_client: Client, capsys: Any
) -> None:
    assert main(["schema", "check", MODEL, *flags]) == 1
    out, _ = capsys.readouterr()
    assert "+ title: {'type': 'string'}" in out
    assert main(["schema", "sync", MODEL, "--dry-run", *flags]) == 0
    assert _schema(kinto_client) is None
    assert main(["schema", "sync", MODEL, "--yes", *flags]) == 0
    out, _ = capsys.readouterr()
    assert "written" in out
    assert _schema(kinto_client) == Item.json_schema()
    assert main(["schema", "check", MODEL, *flags]) == 0
    out, _ = capsys.readouterr()
    assert "agrees with the model" in out


def test_sync_reports_failing_records(flags: list[str], kinto_client: Client, capsys: Any) -> None:
    kinto_client.create_record(id="wrong", data={"title": 1})
    assert main(["schema", "sync", MODEL, "--dry-run", *flags]) == 0
    out, _ = capsys.readouterr()
    assert "1 of 1 existing record(s) would fail the new schema" in out
    assert "wrong: title: 1 is not of type 'string'" in out


def test_sync_without_a_terminal_refuses_without_yes(
    flags: list[str], kinto_client: Client, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch, None)
    assert main(["schema", "sync", MODEL, *flags]) == 2
    _, err = capsys.readouterr()
    assert "stdin is not a terminal; give --yes" in err
    assert _schema(kinto_client) is None


@pytest.mark.parametrize(("answer", "written"), [("y\n", True), ("n\n", False)])
def test_sync_on_a_terminal_asks(
    flags: list[str],
    kinto_client: Client,
    capsys: Any,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    written: bool,
) -> None:
    _terminal(monkeypatch, answer)
    assert main(["schema", "sync", MODEL, *flags]) == 0
    out, _ = capsys.readouterr()
    assert "write Item's schema? [y/N]" in out
    assert (_schema(kinto_client) is not None) is written


def test_the_server_and_credentials_from_the_environment(
    kinto_client: Client,
    kinto_admin_auth: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KINTO_URL", kinto_client.server_url)
    monkeypatch.setenv("KINTO_AUTH", "{}:{}".format(*kinto_admin_auth))
    assert main(["schema", "sync", MODEL, "-y", "-b", str(kinto_client.bucket_name)]) == 0
    assert _schema(kinto_client) == Item.json_schema()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["schema", "check", "tests.orm.models"], "expected module:Model"),
        (["schema", "check", "tests.orm.models:Nope"], "cannot import tests.orm.models:Nope"),
        (["schema", "check", "tests.orm.models:Author"], "is not a kintorm Record model"),
        (["schema", "check", MODEL], "no server: give -s/--server or set $KINTO_URL"),
    ],
)
def test_usage_errors_go_to_stderr_with_exit_2(
    argv: list[str], message: str, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KINTO_URL", raising=False)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert message in err and out == ""


def test_a_server_error_goes_to_stderr_with_exit_1(
    kinto_client: Client, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KINTO_AUTH", raising=False)
    argv = ["schema", "sync", MODEL, "-y", "-s", kinto_client.server_url, "-b", "nowhere"]
    assert main(argv) == 1  # anonymous: cannot create the collection
    _, err = capsys.readouterr()
    assert err.startswith("kintorm schema sync: ")


@pytest.mark.parametrize("argv", [["schema"], ["schema", "sync"], ["schema", "check"]])
def test_every_command_has_help(argv: list[str], capsys: Any) -> None:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    assert "usage: kintorm schema" in capsys.readouterr().out
