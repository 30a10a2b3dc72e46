"""kintorm.kinto_plugin makes kinto-attachment's writes honour their preconditions,
on the memory backend and on PostgreSQL with 4 workers.

Stock kinto-attachment ignores ``If-Match`` and ``If-None-Match`` (see
tests/orm/test_attachment_servers.py); with the plugin a stale upload or removal
gets Kinto's 412, and writers racing with one version store exactly one file. A
removal whose answer was lost is re-sent and recognised; an upload is not re-sent
(a POST) and says it may have been applied.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator

import pytest
from support.faultproxy import FaultProxy

from kintorm import Attachment, Client, ConflictError, KintoException, Record
from kintorm.client.attachments import upload_request
from kintorm.client.messages import File, Request
from kintorm.kinto_plugin import ATTACHMENT_PRECONDITIONS, CAPABILITY
from kintorm.server import KintoServer

WRITERS = 8


class Scan(Record, collection="items"):
    title: str = ""
    scan: Attachment | None = None


def _upload(client: Client, record_id: str, name: str, headers: dict[str, str]) -> Request:
    path = client.get_endpoint("record", id=record_id)
    return upload_request(
        path, File("attachment", name, name.encode(), "text/plain"), None, None, headers
    )


def _status(client: Client, request: Request) -> int:
    try:
        return client.send(request).status_code
    except KintoException as exc:
        return int(exc.response.status_code)


def test_the_plugin_says_attachment_writes_are_guarded(backend_client: Client) -> None:
    announced = backend_client.server_info()["capabilities"][CAPABILITY]
    assert announced[ATTACHMENT_PRECONDITIONS] is True


def test_stale_attachment_writes_get_kintos_412(backend_client: Client) -> None:
    client = backend_client
    version = client.create_record(id="r", data={"title": "a"})["data"]["last_modified"]
    stale = {"If-Match": f'"{version - 1}"'}
    with pytest.raises(KintoException) as caught:
        client.send(_upload(client, "r", "a.txt", stale))
    response = caught.value.response
    assert response.status_code == 412
    body = response.json()
    assert (body["errno"], body["details"]["existing"]["title"]) == (114, "a")
    assert response.headers["ETag"] == f'"{version}"'
    removal = Request(
        "DELETE", client.get_endpoint("record", id="r") + "/attachment", headers=stale
    )
    assert _status(client, removal) == 412
    assert _status(client, _upload(client, "r", "b.txt", {"If-None-Match": "*"})) == 412
    assert _status(client, _upload(client, "missing", "c.txt", {"If-Match": '"1"'})) == 412
    assert "attachment" not in client.get_record(id="r")["data"]
    fresh = {"If-Match": f'"{version}"'}
    assert _status(client, _upload(client, "r", "d.txt", fresh)) == 200
    assert _status(client, _upload(client, "new", "e.txt", {"If-None-Match": "*"})) == 201


def test_a_creator_is_not_shown_a_record_in_a_412(
    backend: KintoServer, backend_client: Client
) -> None:
    """Who may only create records gets the 412 without the record's data."""
    user = backend.create_account(f"maker-{uuid.uuid4().hex[:8]}", "makers-password")
    backend_client.patch_collection(
        id="items", permissions={"record:create": [f"account:{user[0]}"]}
    )
    maker = Client(
        server_url=backend.url, auth=user, bucket=backend_client.bucket_name, collection="items"
    )
    with pytest.raises(KintoException) as caught:
        maker.send(_upload(maker, "absent", "a.txt", {"If-Match": '"5"'}))
    assert caught.value.response.status_code == 412
    assert "details" not in caught.value.response.json()


def test_writers_racing_with_one_version_store_one_file(backend_client: Client) -> None:
    client = backend_client
    record = Scan.objects.using(client).create(id="raced", title="a")
    outcomes: dict[str, object] = {}

    def write(name: str) -> None:
        mine = Scan.objects.using(client.clone()).get(id="raced")
        mine.last_modified = record.last_modified  # everyone holds the same version
        try:
            outcomes[name] = mine.attach(name.encode(), filename=f"{name}.txt")
        except ConflictError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [name for name, outcome in outcomes.items() if isinstance(outcome, Attachment)]
    assert len(outcomes) == WRITERS and len(won) == 1, outcomes
    stored = client.get_record(id="raced")["data"]["attachment"]
    assert stored["filename"] == f"{won[0]}.txt"


@contextlib.contextmanager
def _answer_lost_once(
    backend: KintoServer, bucket: str, method: str, record_id: str
) -> Iterator[tuple[FaultProxy, Scan]]:
    """The record loaded through a proxy that loses the answer of the first ``method``
    request (after Kinto applied it), on a client that re-sends once."""
    with FaultProxy(
        backend.url, faults=["reset_after"], methods=frozenset({method}), rate=1.0, budget=1
    ) as proxy:
        client = Client(
            server_url=proxy.url,
            auth=backend.admin_auth,
            bucket=bucket,
            collection="items",
            retry=1,
        )
        yield proxy, Scan.objects.using(client).get(id=record_id)


def test_a_removal_whose_answer_was_lost_is_recognised(
    backend: KintoServer, backend_client: Client
) -> None:
    """The DELETE is re-sent, meets its own earlier attempt (412): detach() succeeds."""
    scan = Scan.objects.using(backend_client).create(id="lost", title="a")
    scan.attach(b"x", filename="x.txt")
    with _answer_lost_once(backend, backend_client.bucket_name, "DELETE", "lost") as (proxy, mine):
        mine.detach()
        assert proxy.injected["reset_after"] == 1
    stored = backend_client.get_record(id="lost")["data"]
    assert stored["attachment"] is None
    assert mine.scan is None
    assert mine.last_modified == stored["last_modified"] and not mine.is_dirty


def test_an_upload_whose_answer_was_lost_says_it_may_have_been_applied(
    backend: KintoServer, backend_client: Client
) -> None:
    """A POST is not re-sent: the error says the upload may have been applied."""
    Scan.objects.using(backend_client).create(id="maybe", title="a")
    with _answer_lost_once(backend, backend_client.bucket_name, "POST", "maybe") as (proxy, mine):
        with pytest.raises(KintoException) as caught:
            mine.attach(b"x", filename="x.txt")
        assert proxy.injected["reset_after"] == 1
    assert caught.value.maybe_applied
    assert backend_client.get_record(id="maybe")["data"]["attachment"]["filename"] == "x.txt"
