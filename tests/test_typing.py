"""The types users see, checked by mypy --strict on the files of tests/typing/."""

from __future__ import annotations

import pathlib
import re

import pytest

api = pytest.importorskip("mypy.api", reason="mypy is in the dev extra")

HERE = pathlib.Path(__file__).parent / "typing"


def mypy(path: pathlib.Path) -> tuple[str, int]:
    out, err, code = api.run(
        ["--strict", "--no-incremental", "--no-error-summary", "--hide-error-context", str(path)]
    )
    return out + err, code


def test_ids_after_save_and_create_are_str() -> None:
    out, code = mypy(HERE / "ids.py")
    assert (out, code) == ("", 0)


def test_hooks_and_serialisation_keep_their_types() -> None:
    out, code = mypy(HERE / "hooks.py")
    assert (out, code) == ("", 0)


def test_misuses_are_reported() -> None:
    out, _ = mypy(HERE / "errors.py")
    lines = (HERE / "errors.py").read_text().splitlines()
    expected = {n: line.split("# E: ", 1)[1] for n, line in enumerate(lines, 1) if "# E: " in line}
    reported = {}
    for line in out.splitlines():
        match = re.match(r".*errors\.py:(\d+): error: (.*)", line)
        if match:
            reported[int(match.group(1))] = match.group(2)
    assert set(reported) == set(expected), out
    for n, message in expected.items():
        assert message in reported[n], (n, reported[n])


def test_attachment_fields_and_calls_are_typed() -> None:
    out, code = mypy(HERE / "attachments.py")
    assert (out, code) == ("", 0)
