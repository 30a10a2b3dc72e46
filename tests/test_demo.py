"""The demo's steps run against the real server and each prints what it did."""

from __future__ import annotations

from kintorm import Client
from kintorm.demo import STEPS, run
from kintorm.server import KintoServer


def test_demo_runs_every_step(kinto_server: KintoServer, kinto_bucket: str) -> None:
    lines: list[str] = []
    try:
        run(kinto_server.url, kinto_server.admin_auth, bucket=kinto_bucket, out=lines.append)
    finally:
        Client(server_url=kinto_server.url, auth=kinto_server.admin_auth).delete_bucket(
            id=kinto_bucket, if_exists=True
        )
    assert lines[0].startswith("connected to Kinto")
    assert [line.split("]")[0].strip("[ ") for line in lines[1:]] == [name for name, _ in STEPS]
    assert "pages of [25, 25, 10]" in lines[3]
    assert "412" in lines[6]
    by_step = dict(zip([name for name, _ in STEPS], lines[1:], strict=True))
    assert "deleted the 39 unfinished records, then the 21 others" in lines[8]
    assert "bulk_create 10" in by_step["model"]
    assert "5 open chores" in by_step["query"]
    assert "MergePatch {'data': {'tags': ['docs', 'urgent']}}" in by_step["save"]
    assert "done=True" in lines[-2] and "twice" in lines[-2]
    assert "no field 'titel'" in lines[-1]
