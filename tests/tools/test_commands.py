"""``kintorm dump``, ``load`` and ``inspect``: files and pipes, exit codes, errors on
stderr, progress bars only on a terminal (or with --progress), Ctrl-C's summary and
status 130, the server and credentials from flags or $KINTO_URL / $KINTO_AUTH."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest
from replication._data import fill, snapshot

from kintorm import Client
from kintorm.cli import main
from kintorm.tools.dump import DumpProgress
from kintorm.tools.load import LoadProgress


def _flags(client: Client, auth: tuple[str, str]) -> list[str]:
    return ["-s", client.server_url, "-a", "{}:{}".format(*auth)]


def _where(client: Client) -> str:
    return f"{client.bucket_name}/{client.collection_name}"


def test_dump_to_a_file_then_load_it(
    source: Client,
    target: Client,
    kinto_admin_auth: tuple[str, str],
    tmp_path: pathlib.Path,
    capsys: Any,
) -> None:
    fill(source, 40)
    path = tmp_path / "items.jsonl"
    flags = _flags(source, kinto_admin_auth)
    assert main(["dump", *flags, _where(source), "-o", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("kintorm dump: 40 records and 0 tombstones")  # a summary, no bar
    assert "--since" in err
    assert len(path.read_text().splitlines()) == 40
    assert main(["load", str(path), *flags, _where(target)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # stderr is not a terminal here: no progress bar
    assert "40 lines: 40 written, 0 already there, 0 deleted, 0 failed" in out
    assert snapshot(target)["records"] == snapshot(source)["records"]
    assert main(["load", str(path), *flags, _where(target), "-q"]) == 0  # again: resumed
    assert capsys.readouterr() == ("", "")


def test_dump_to_stdout_and_since(
    source: Client, kinto_admin_auth: tuple[str, str], capsys: Any
) -> None:
    fill(source, 5)
    since = int(source.get_records_timestamp())
    source.delete_record(id="r00002")
    assert (
        main(
            ["dump", *_flags(source, kinto_admin_auth), _where(source), "--since", str(since), "-q"]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert err == ""
    assert [json.loads(line)["data"]["id"] for line in out.splitlines()] == ["r00002"]


def test_progress_bar_on_stderr_when_asked(
    source: Client,
    target: Client,
    kinto_admin_auth: tuple[str, str],
    tmp_path: pathlib.Path,
    capsys: Any,
) -> None:
    fill(source, 30)
    path = tmp_path / "items.jsonl"
    flags = _flags(source, kinto_admin_auth)
    assert main(["dump", *flags, _where(source), "-o", str(path), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "dump: 100%" in err and "30/30" in err and "records/s" in err
    assert main(["load", str(path), *flags, _where(target), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "load: 100%" in err and "30/30" in err


def test_load_reports_failures_with_their_ids_and_fails(
    target: Client, kinto_admin_auth: tuple[str, str], tmp_path: pathlib.Path, capsys: Any
) -> None:
    target.create_bucket()
    target.create_collection(
        data={"schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    )
    path = tmp_path / "bad.jsonl"
    path.write_text('{"data": {"id": "ok", "n": 1}}\n{"data": {"id": "wrong", "n": "x"}}\n{oops\n')
    assert main(["load", str(path), *_flags(target, kinto_admin_auth), _where(target)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("kintorm load: 3 lines: 1 written, 0 already there, 0 deleted, 2 failed")
    assert "line 2: wrong: 400" in err and "line 3: (no id)" in err
    assert err.rstrip().endswith("failed ids: wrong, None")


def test_server_and_credentials_from_the_environment(
    source: Client,
    kinto_admin_auth: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    fill(source, 2)
    monkeypatch.setenv("KINTO_URL", source.server_url)
    monkeypatch.setenv("KINTO_AUTH", "{}:{}".format(*kinto_admin_auth))
    assert main(["dump", _where(source), "-q"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["inspect", _where(source)]) == 0
    assert 'class Items(Record, bucket="' in capsys.readouterr().out


def test_errors_go_to_stderr_with_a_non_zero_status(
    source: Client, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: pathlib.Path
) -> None:
    monkeypatch.delenv("KINTO_URL", raising=False)
    monkeypatch.delenv("KINTO_AUTH", raising=False)
    assert main(["dump", "b/c"]) == 2
    assert capsys.readouterr() == (
        "",
        "kintorm dump: no server: give -s/--server or set $KINTO_URL\n",
    )
    wrong = ["-s", source.server_url, "-a", "admin:not-the-password"]
    assert main(["dump", *wrong, _where(source)]) == 1  # anonymous: the bucket is hidden
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("kintorm dump: ") and "not-the-password" not in err
    assert main(["load", str(tmp_path / "missing.jsonl"), *wrong, _where(source)]) == 2
    assert "No such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["inspect", "no-slash"])
    assert exit_.value.code == 2
    assert "expected BUCKET/COLLECTION" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["dump", "load", "inspect", "replicate", "serve"])
def test_every_command_has_help(command: str, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: kintorm {command}")


def test_help_runs_as_a_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kintorm.cli", "load", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        check=False,
    )
    assert done.returncode == 0
    assert "KINTO_URL" in done.stdout and "130 interrupted" in done.stdout


def _interrupting(name: str, progress: Any) -> Any:
    def fake(client: Any, stream: Any, **kwargs: Any) -> Any:
        kwargs["on_progress"](progress)
        raise KeyboardInterrupt

    return fake


def test_ctrl_c_stops_a_dump_with_a_summary(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr("kintorm.tools.commands.count", lambda client, since: 100)
    monkeypatch.setattr(
        "kintorm.tools.commands.dump", _interrupting("dump", DumpProgress(records=25, timestamp=77))
    )
    assert main(["dump", "-s", "http://127.0.0.1:9/v1", "b/c", "-o", os.devnull]) == 130
    err = capsys.readouterr().err
    assert err.startswith("kintorm dump: interrupted: 25 records and 0 tombstones")
    assert err.rstrip().endswith("next incremental dump: --since 77")


def test_ctrl_c_stops_a_load_with_a_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n" * 60)
    monkeypatch.setattr(
        "kintorm.tools.commands.load", _interrupting("load", LoadProgress(written=50, lines=50))
    )
    assert main(["load", str(path), "-s", "http://127.0.0.1:9/v1", "b/c"]) == 130
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("kintorm load: interrupted: 50 lines: 50 written")
    assert "run the same command again (or --skip 50) to resume" in err


def test_load_reads_stdin(
    source: Client,
    target: Client,
    kinto_admin_auth: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    fill(source, 3)
    buffer = io.StringIO()
    from kintorm.tools import dump

    dump(source, buffer)
    monkeypatch.setattr("sys.stdin", io.StringIO(buffer.getvalue()))
    assert main(["load", "-", *_flags(target, kinto_admin_auth), _where(target)]) == 0
    assert "3 written" in capsys.readouterr().out
    assert len(target.get_records()) == 3


def test_a_load_stopped_by_a_server_error_says_how_to_resume(
    target: Client, tmp_path: pathlib.Path, capsys: Any
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"data": {"id": "a"}}\n')
    wrong = ["-s", target.server_url, "-a", "admin:not-the-password"]
    assert main(["load", str(path), *wrong, _where(target)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("kintorm load: ")
    assert err.rstrip().endswith(
        "stopped: nothing was written; run the same command again to resume"
    )


@pytest.mark.parametrize(
    "argv", [["dump", "b/c"], ["replicate", "-b", "b", "-c", "c"]], ids=["dump", "replicate"]
)
@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--page-size", "0", "expected a whole number >= 1, got '0'"),
        ("--page-size", "many", "expected a whole number >= 1, got 'many'"),
        ("--since", "-3", "expected a timestamp (a whole number) >= 0, got '-3'"),
    ],
)
def test_bad_reading_options_are_usage_errors_before_any_request(
    argv: list[str], option: str, value: str, said: str, capsys: Any
) -> None:
    with pytest.raises(SystemExit) as exit_:  # argparse's exit: no client made, no request
        main([*argv, "-s", "http://127.0.0.1:9/v1", option, value])
    assert exit_.value.code == 2
    assert f"{option}: {said}" in capsys.readouterr().err


def test_dump_and_replicate_read_with_the_same_options() -> None:
    from kintorm.cli import build_parser

    parser = build_parser()
    dump_args = parser.parse_args(["dump", "b/c", "--since", "5", "--page-size", "7"])
    copy_args = parser.parse_args(["replicate", "--since", "5", "--page-size", "7"])
    for args in (dump_args, copy_args):
        assert (args.since, args.page_size, args.permissions) == (5, 7, True)
    for command in (["dump", "b/c"], ["replicate"]):
        assert parser.parse_args([*command, "--no-permissions"]).permissions is False
