"""``kintorm replicate``: between two real Kintos, the data tools' progress bar,
errors on stderr, Ctrl-C's summary and the exit codes of dump and load, and the server
and credentials from flags or $KINTO_URL / $KINTO_AUTH."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
import responses

from kintorm import Client
from kintorm.cli import main
from kintorm.replication import Progress, ReplicationError
from kintorm.server import KintoServer

from ._data import fill, snapshot


@pytest.fixture
def argv(
    origin: Client,
    destination: Client,
    kinto_admin_auth: tuple[str, str],
    second_server: KintoServer,
) -> list[str]:
    """The command line copying ``origin`` into ``destination``, every option a flag."""
    return [
        "replicate",
        "-s",
        destination.server_url,
        "-a",
        "{}:{}".format(*second_server.admin_auth),
        "-b",
        str(destination.bucket_name),
        "-c",
        "items",
        "-o",
        origin.server_url,
        "--origin-auth",
        "{}:{}".format(*kinto_admin_auth),
        "--origin-bucket",
        str(origin.bucket_name),
    ]


def test_copies_and_prints_the_next_since(
    argv: list[str], origin: Client, destination: Client, capsys: Any
) -> None:
    fill(origin, 30)
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""  # stderr is not a terminal here: no progress lines
    assert re.search(r"30 records \(30 written, 0 deleted\)", out)
    since = int(re.findall(r"--since (\d+)", out)[-1])
    assert since == int(origin.get_records_timestamp())
    assert snapshot(destination) == snapshot(origin)
    # the printed --since brings the copy up to date
    origin.delete_record(id="r00001")
    fill(origin, 2, start=50)
    assert main([*argv, "--since", str(since)]) == 0
    assert "3 records (2 written, 1 deleted)" in capsys.readouterr().out
    assert snapshot(destination) == snapshot(origin)


def test_progress_bar_on_stderr_when_asked(argv: list[str], origin: Client, capsys: Any) -> None:
    fill(origin, 60)
    assert main([*argv, "--progress"]) == 0
    out, err = capsys.readouterr()
    # tqdm's bar, counting to the origin's records: counts, rate
    assert "replicate: 100%" in err and "60/60" in err and "records/s" in err
    assert "60 records (60 written, 0 deleted)" in out  # the summary, as without the bar


def test_server_and_credentials_from_the_environment(
    argv: list[str],
    origin: Client,
    destination: Client,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    fill(origin, 3)
    flags = dict(zip(argv[1::2], argv[2::2], strict=True))
    monkeypatch.setenv("KINTO_URL", flags.pop("-s"))
    monkeypatch.setenv("KINTO_AUTH", flags.pop("-a"))
    assert main(["replicate", *[x for kv in flags.items() for x in kv]]) == 0
    assert len(destination.get_records()) == 3
    assert flags["--origin-auth"].split(":")[1] not in capsys.readouterr().out


def test_a_failure_is_reported_on_stderr_with_a_non_zero_status(
    argv: list[str], origin: Client, capsys: Any
) -> None:
    fill(origin, 3)
    wrong = [*argv]
    wrong[wrong.index("-a") + 1] = "admin:not-the-password"
    assert main(wrong) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("kintorm replicate: ")
    assert "nothing was copied" in err
    assert "not-the-password" not in err


def test_missing_server_or_collection_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("KINTO_URL", raising=False)
    assert main(["replicate", "-c", "items"]) == 2
    assert "no server" in capsys.readouterr().err
    assert main(["replicate", "-s", "http://127.0.0.1:9/v1", "-c", "items"]) == 2
    assert "no bucket: give -b or --origin-bucket" in capsys.readouterr().err
    assert main(["replicate", "-s", "http://127.0.0.1:9/v1", "-b", "main"]) == 2
    assert "no collection" in capsys.readouterr().err


def test_help_runs_as_a_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kintorm.cli", "replicate", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        check=False,
    )
    assert done.returncode == 0
    assert "--since TIMESTAMP" in done.stdout and "KINTO_URL" in done.stdout


def _stopping_replicate(stop: BaseException) -> Any:
    """A stand-in for replicate() that copies one batch and then stops with ``stop``."""

    def fake(origin: Any, destination: Any, **kwargs: Any) -> Any:
        progress = Progress(written=25, batches=1, timestamp=1234)
        kwargs["on_progress"](progress)
        if isinstance(stop, ReplicationError):
            stop.progress = progress
        raise stop

    return fake


@pytest.mark.parametrize(
    ("stop", "status", "said"),
    [
        (
            KeyboardInterrupt(),
            130,
            r"interrupted: 25 records \(25 written, 0 deleted\), [\d,]+ records/s, [\d.]+ s, "
            r"copied up to 1234; resume with --since 1234",
        ),
        (ReplicationError("boom", Progress()), 1, "boom\nresume with --since 1234"),
    ],
)
def test_a_stopped_copy_prints_a_summary_and_the_since_that_resumes_it(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, stop: BaseException, status: int, said: str
) -> None:
    monkeypatch.setattr("kintorm.tools.replicate_command.count", lambda client, since: 100)
    monkeypatch.setattr("kintorm.tools.replicate_command.replicate", _stopping_replicate(stop))
    argv = ["replicate", "-s", "http://127.0.0.1:9/v1", "-o", "http://127.0.0.1:8/v1", "-b", "b"]
    argv += ["-a", "u:p", "-c", "items"]
    assert main(argv) == status
    out, err = capsys.readouterr()
    assert out == ""
    assert re.fullmatch(f"kintorm replicate: {said}\n", err)


def test_ctrl_c_before_the_first_batch_says_nothing_was_copied(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    def interrupted(origin: Any, destination: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("kintorm.tools.replicate_command.count", lambda client, since: None)
    monkeypatch.setattr("kintorm.tools.replicate_command.replicate", interrupted)
    argv = ["replicate", "-s", "http://127.0.0.1:9/v1", "-o", "http://127.0.0.1:8/v1"]
    argv += ["-b", "b", "-c", "items"]
    assert main(argv) == 130
    assert capsys.readouterr() == (
        "",
        "kintorm replicate: interrupted: nothing was copied: run the same command again\n",
    )


def test_an_unreadable_origin_fails_before_copying(argv: list[str], capsys: Any) -> None:
    missing = [*argv, "--origin-collection", "missing"]  # the origin bucket has no such one
    assert main(missing) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("kintorm replicate: ")
    assert err.rstrip().endswith("nothing was copied: run the same command again")


@pytest.mark.parametrize(
    ("origin", "sent"),
    [
        ("http://127.0.0.1:8888/v1", True),  # the same server: its credentials go with it
        ("http://127.0.0.2:8888/v1", False),  # another host
        ("http://127.0.0.1:9999/v1", False),  # another port is another origin
        ("https://127.0.0.1:8888/v1", False),  # another scheme too
    ],
)
def test_the_destinations_credentials_never_go_to_another_origin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], origin: str, sent: bool
) -> None:
    made: list[dict[str, Any]] = []

    def client(**kwargs: Any) -> Client:
        made.append(kwargs)
        if len(made) == 2:  # both clients seen: stop before any request
            raise ValueError("stopped by the test")
        return Client(**kwargs)

    monkeypatch.setattr("kintorm.cli_options.Client", client)
    destination_flags = ["-s", "http://127.0.0.1:8888/v1", "-a", "dest:secret"]
    code = main(["replicate", *destination_flags, "-o", origin, "-b", "b", "-c", "c"])
    assert code == 2 and "stopped by the test" in capsys.readouterr().err
    destination, origin_kwargs = made
    assert destination["auth"] == ("dest", "secret")
    assert origin_kwargs["auth"] == (("dest", "secret") if sent else None)


def test_copying_a_collection_onto_itself_is_a_usage_error_before_any_request(
    capsys: Any,
) -> None:
    argv = ["replicate", "-s", "http://127.0.0.1:9/v1", "-b", "b", "-c", "items"]
    with responses.RequestsMock():  # any request would fail the test
        assert main(argv) == 2
    assert capsys.readouterr() == (
        "",
        "kintorm replicate: origin and destination are the same collection "
        "(<KintoClient http://127.0.0.1:9/v1/buckets/b/collections/items>)\n",
    )
