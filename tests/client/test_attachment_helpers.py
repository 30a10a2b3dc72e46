"""The pure attachment helpers and the file effects of a download, without a server."""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kintorm.client.attachments import attachment_url, local_filename, upload_request
from kintorm.client.effects import ReadStream, WriteVerified
from kintorm.client.messages import File


def test_attachment_url() -> None:
    absolute = "https://cdn.example/files/a.png"
    assert attachment_url(absolute, "http://other/") == absolute
    assert attachment_url(absolute, None) == absolute
    assert (
        attachment_url("a/b.png", "https://cdn.example/files")
        == "https://cdn.example/files/a/b.png"
    )
    assert (
        attachment_url("/a.png", "https://cdn.example/files/") == "https://cdn.example/files/a.png"
    )
    with pytest.raises(ValueError, match="no attachments base_url"):
        attachment_url("a.png", None)


def test_upload_request() -> None:
    request = upload_request(
        "/buckets/b/collections/c/records/r",
        File("attachment", "a.txt", b"abc", "text/plain"),
        {"title": "x"},
        {"read": ["system.Everyone"]},
        {"If-Match": '"12"'},
    )
    assert (request.method, request.path) == (
        "POST",
        "/buckets/b/collections/c/records/r/attachment",
    )
    assert request.headers == {"If-Match": '"12"'}
    assert request.form == {"data": '{"title":"x"}', "permissions": '{"read":["system.Everyone"]}'}
    assert request.files == (File("attachment", "a.txt", b"abc", "text/plain"),)
    assert upload_request("/r", request.files[0]).form == {}


@given(st.text(alphabet=st.sampled_from("ab./\\\x00 ."), max_size=12))
def test_local_filename_never_leaves_the_folder(name: str) -> None:
    """Reference: the last part of the name once backslashes are slashes."""
    expected = posixpath.basename(name.replace("\\", "/"))
    if expected in ("", ".", ".."):
        with pytest.raises(ValueError, match="cannot name a local file"):
            local_filename(name)
        return
    found = local_filename(name)
    assert found == expected
    assert "/" not in found and "\\" not in found
    folder = "/srv/files"
    assert posixpath.dirname(posixpath.normpath(posixpath.join(folder, found))) == folder


def _check(content: bytes, target: object = None, *, digest: str | None = None) -> str:
    expected = digest or hashlib.sha256(content).hexdigest()
    return str(WriteVerified(content, expected, len(content), target).run())


def test_write_verified_replaces_a_file_whole(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "sub" / "f.bin"
    assert _check(b"first", str(target)) == hashlib.sha256(b"first").hexdigest()
    assert target.read_bytes() == b"first"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # a new file's usual mode
    _check(b"second", str(target))
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["f.bin"]  # no temporary file left
    buffer = io.BytesIO()
    _check(b"third", buffer)
    assert buffer.getvalue() == b"third"


def test_write_verified_writes_nothing_for_other_bytes(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    wrong = hashlib.sha256(b"other").hexdigest()
    assert _check(b"new", str(target), digest=wrong) == hashlib.sha256(b"new").hexdigest()
    assert target.read_bytes() == b"old"
    size_only = WriteVerified(b"new", hashlib.sha256(b"new").hexdigest(), 4, str(target))
    size_only.run()
    assert target.read_bytes() == b"old"
    buffer = io.BytesIO()
    _check(b"new", buffer, digest=wrong)
    assert buffer.getvalue() == b""
    assert os.listdir(tmp_path) == ["f.bin"]


def test_write_verified_leaves_no_temporary_file_when_the_rename_fails(
    tmp_path: pathlib.Path,
) -> None:
    folder = tmp_path / "a-folder"
    (folder / "inside").mkdir(parents=True)  # os.replace cannot put a file over it
    with pytest.raises(OSError):
        _check(b"x", str(folder))
    assert sorted(os.listdir(tmp_path)) == ["a-folder"]


def test_read_stream_wants_bytes() -> None:
    assert ReadStream(io.BytesIO(b"abc")).run() == b"abc"
    with pytest.raises(TypeError, match="binary mode"):
        ReadStream(io.StringIO("abc")).run()
