"""Attachments through the kinto-attachment plugin, sync and async."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest

from kintorm import KintoException


@pytest.fixture
def attachments(api: Any) -> None:
    if "attachments" not in api.server_info()["capabilities"]:
        reason = "the server has no 'attachments' capability (kinto-attachment not installed)"
        print(reason)
        pytest.skip(reason)


@pytest.mark.usefixtures("attachments")
def test_add_download_remove_attachment(api: Any, tmp_path: pathlib.Path) -> None:
    content = os.urandom(3000) + b"\x00end"
    source = tmp_path / "report.pdf"
    source.write_bytes(content)
    api.create_record(id="doc", data={"title": "report"})

    meta = api.add_attachment(id="doc", filepath=str(source), mimetype="application/pdf")
    assert meta["filename"] == "report.pdf"
    assert meta["size"] == len(content)
    assert meta["mimetype"] == "application/pdf"
    assert meta["location"]

    record = api.get_record(id="doc")["data"]
    assert record["title"] == "report"  # the record's fields are kept
    assert record["attachment"]["hash"] == meta["hash"]

    target = tmp_path / "downloaded.pdf"
    written = api.download_attachment(record, filepath=str(target))
    assert pathlib.Path(written) == target
    assert target.read_bytes() == content
    # into a folder: the attachment's own filename
    folder = tmp_path / "dir"
    folder.mkdir()
    written = api.download_attachment(record, filepath=str(folder))
    assert pathlib.Path(written) == folder / "report.pdf"
    assert (folder / "report.pdf").read_bytes() == content

    assert api.remove_attachment(id="doc") is None  # 204
    after = api.get_record(id="doc")["data"]
    assert after.get("attachment") is None
    assert after["title"] == "report"
    with pytest.raises(ValueError, match="no attachment"):
        api.download_attachment(after, filepath=str(tmp_path / "none"))


@pytest.mark.usefixtures("attachments")
def test_add_attachment_creates_the_record_with_data(api: Any, tmp_path: pathlib.Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello")
    meta = api.add_attachment(
        id="fresh",
        filepath=str(source),
        data={"kind": "note"},
        permissions={"read": ["system.Everyone"]},
    )
    assert meta["mimetype"] == "text/plain"  # guessed from the file name
    record = api.get_record(id="fresh")
    assert record["data"]["kind"] == "note"
    assert record["data"]["attachment"] == meta
    assert "system.Everyone" in record["permissions"]["read"]


@pytest.mark.usefixtures("attachments")
def test_attachment_errors(api: Any, tmp_path: pathlib.Path) -> None:
    source = tmp_path / "script.exe"
    source.write_bytes(b"MZ")
    api.create_record(id="bare", data={})
    with pytest.raises(KintoException) as caught:
        api.add_attachment(id="bare", filepath=str(source))
    assert caught.value.response.status_code == 400
    assert "extension" in str(caught.value)
    with pytest.raises(FileNotFoundError):
        api.add_attachment(id="bare", filepath=str(tmp_path / "absent.txt"))


@pytest.mark.usefixtures("attachments")
def test_download_skips_an_up_to_date_file_and_replaces_a_stale_one(
    api: Any, tmp_path: pathlib.Path
) -> None:
    source = tmp_path / "v.txt"
    source.write_text("version one")
    api.create_record(id="versioned", data={})
    api.add_attachment(id="versioned", filepath=str(source))
    target = tmp_path / "out.txt"
    first = api.get_record(id="versioned")["data"]
    api.download_attachment(first, filepath=str(target))
    assert target.read_text() == "version one"

    source.write_text("version two, longer")
    api.add_attachment(id="versioned", filepath=str(source))
    second = api.get_record(id="versioned")["data"]
    api.download_attachment(second, filepath=str(target))
    assert target.read_text() == "version two, longer"

    # a file that matches the attachment is left alone; overwrite=True downloads anyway
    os.utime(target, ns=(0, 0))
    api.download_attachment(second, filepath=str(target))
    assert target.stat().st_mtime_ns == 0
    api.download_attachment(second, filepath=str(target), overwrite=True)
    assert target.stat().st_mtime_ns != 0
    assert target.read_text() == "version two, longer"


@pytest.mark.usefixtures("attachments")
def test_download_into_a_folder_keeps_the_file_inside_it(api: Any, tmp_path: pathlib.Path) -> None:
    """The filename is the uploader's: only its last part names the file in the folder."""
    source = tmp_path / "plain.txt"
    source.write_text("inside")
    api.create_record(id="sneaky", data={})
    api.add_attachment(id="sneaky", filepath=str(source), filename="../../escape.txt")
    record = api.get_record(id="sneaky")["data"]
    assert record["attachment"]["filename"] == "../../escape.txt"  # kept as sent
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    written = api.download_attachment(record, filepath=str(folder))
    assert pathlib.Path(written) == folder / "escape.txt"
    assert (folder / "escape.txt").read_text() == "inside"
    assert not (tmp_path / "escape.txt").exists()
