"""Attachments as model fields (kinto-attachment) against a real Kinto.

Every test taking ``orm`` runs twice: with the sync methods and with their
awaited twins on an AsyncClient (see conftest.py). The server includes
kinto-attachment and kintorm.kinto_plugin (which makes attachment writes honour
If-Match); a stock server and a second origin serving the files are in
test_attachment_servers.py.
"""

from __future__ import annotations

import hashlib
import io
import pathlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from kintorm import (
    Attachment,
    AttachmentError,
    Client,
    ConflictError,
    DoesNotExist,
    FieldError,
    HookContext,
    KintoException,
    Record,
    ValidationError,
    after_create,
    before_create,
    before_save,
)
from kintorm.orm.attachments.value import ATTACHMENT_KEY, ATTACHMENT_SCHEMA
from kintorm.orm.hooks import Event

from .conftest import ORM, Counter


class Todo(Record, collection="items"):
    title: str
    done: bool = False
    photo: Attachment | None = None


class Plain(Record, collection="items"):
    title: str = ""


@pytest.fixture(autouse=True)
def attachments(client: Client) -> None:
    if "attachments" not in client.server_info()["capabilities"]:
        reason = "the server has no 'attachments' capability (kinto-attachment not installed)"
        print(reason)
        pytest.skip(reason)


def stored(client: Client, record_id: str | None) -> dict[str, Any]:
    assert record_id is not None
    data: dict[str, Any] = client.get_record(id=record_id)["data"]
    return data


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- upload --------------------------------------------------------------------------


def test_attach_to_a_saved_record_sends_if_match_and_takes_the_answer(
    client: Client, http: Counter, orm: ORM
) -> None:
    todo = orm(Todo(title="a")).save()
    before = todo.last_modified
    http.reset()
    attachment = orm(todo).attach(b"hello", filename="hi.txt")
    assert http.methods == ["POST"]
    _, url, headers = http.requests[0]
    assert url.endswith(f"/records/{todo.id}/attachment")
    assert headers["If-Match"] == f'"{before}"'
    assert "If-None-Match" not in headers
    server = stored(client, todo.id)
    assert todo.last_modified == server["last_modified"] != before
    assert server[ATTACHMENT_KEY] == attachment.to_wire()
    assert todo.photo == attachment
    assert (attachment.size, attachment.hash) == (5, sha256(b"hello"))
    assert (attachment.filename, attachment.mimetype) == ("hi.txt", "text/plain")
    assert not todo.is_dirty and todo.changed_fields == set()
    # a later save is no 412, and neither sends nor drops the attachment key
    http.reset()
    todo.done = True
    orm(todo).save()
    assert http.methods == ["PATCH"]
    assert http.requests[0][2]["If-Match"] == f'"{server["last_modified"]}"'
    assert http.bodies[0] == {"data": {"done": True}}
    assert stored(client, todo.id)[ATTACHMENT_KEY] == attachment.to_wire()
    http.reset()
    orm(todo).save(patch="json")
    assert http.methods == []  # nothing changed


def test_changes_not_saved_yet_stay_pending_across_an_upload(client: Client, orm: ORM) -> None:
    todo = orm(Todo(title="a")).save()
    todo.title = "b"
    orm(todo).attach(b"x", filename="x.txt")
    assert stored(client, todo.id)["title"] == "a"  # the upload sent no field
    assert todo.title == "b" and todo.changed_fields == {"title"}
    orm(todo).save()
    server = stored(client, todo.id)
    assert server["title"] == "b"
    assert server[ATTACHMENT_KEY]["size"] == 1
    assert todo.last_modified == server["last_modified"]


def test_attach_to_an_unsaved_record_creates_it_with_its_fields(
    client: Client, http: Counter, orm: ORM
) -> None:
    todo = Todo(title="new", done=True)
    todo.permissions["read"].append("system.Everyone")
    attachment = orm(todo).attach(b"data", filename="d.csv")
    assert http.methods == ["POST", "GET"]  # the upload, then the record read back
    _, url, headers = http.requests[0]
    assert headers["If-None-Match"] == "*" and "If-Match" not in headers
    assert todo.id is not None and url.endswith(f"/records/{todo.id}/attachment")
    body = client.get_record(id=todo.id)
    assert {k: body["data"][k] for k in ("title", "done")} == {"title": "new", "done": True}
    assert body["data"][ATTACHMENT_KEY] == attachment.to_wire()
    assert body["permissions"]["read"] == ["system.Everyone"]
    # as after a save(): the server's version and permissions (the writer added)
    assert todo.last_modified == body["data"]["last_modified"]
    assert todo.permissions["write"] == body["permissions"]["write"]
    assert todo.photo == attachment and not todo.is_dirty


def test_a_new_record_whose_id_is_taken_is_not_overwritten(client: Client, orm: ORM) -> None:
    client.create_record(id="taken", data={"title": "theirs"})
    with pytest.raises(ConflictError, match="already exists"):
        orm(Todo(id="taken", title="mine")).attach(b"x", filename="x.txt")
    server = stored(client, "taken")
    assert server["title"] == "theirs" and ATTACHMENT_KEY not in server


def test_a_record_changed_meanwhile_gives_conflict_not_an_overwrite(
    client: Client, orm: ORM
) -> None:
    mine = orm(Todo(title="a")).save()
    orm(mine).attach(b"first", filename="first.txt")
    theirs = orm(Todo.objects).get(id=mine.id)
    theirs.title = "theirs"
    orm(theirs).save()
    with pytest.raises(ConflictError, match="modified on the server") as caught:
        orm(mine).attach(b"second", filename="second.txt")
    assert caught.value.current is not None and caught.value.current.title == "theirs"
    server = stored(client, mine.id)
    assert server[ATTACHMENT_KEY]["filename"] == "first.txt"  # the file was not replaced
    assert server["last_modified"] == theirs.last_modified
    with pytest.raises(ConflictError):
        orm(mine).detach()
    assert stored(client, mine.id)[ATTACHMENT_KEY]["filename"] == "first.txt"
    client.delete_record(id=mine.id)
    with pytest.raises(ConflictError, match="deleted"):
        orm(theirs).attach(b"x", filename="x.txt")
    with pytest.raises(KintoException) as missing:
        client.get_record(id=mine.id)  # not re-created by the upload
    assert missing.value.response.status_code == 404


def test_a_record_deleted_with_delete_is_not_recreated(orm: ORM) -> None:
    todo = orm(Todo(title="a")).save()
    orm(todo).delete()
    with pytest.raises(DoesNotExist, match="deleted with delete"):
        orm(todo).attach(b"x", filename="x.txt")


def test_the_upload_is_validated_before_anything_is_sent(http: Counter, orm: ORM) -> None:
    http.reset()
    with pytest.raises(TypeError, match="filename"):
        orm(Todo(title="a")).attach(b"x")
    with pytest.raises(ValueError, match="without a folder"):
        orm(Todo(title="a")).attach(b"x", filename="../x.txt")
    with pytest.raises(TypeError, match="bytes, a file path or a binary file"):
        orm(Todo(title="a")).attach(12, filename="x.txt")
    with pytest.raises(ValidationError, match="title"):
        orm(Todo(title=5)).attach(b"x", filename="x.txt")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Plain declares no attachment field"):
        orm(Plain()).attach(b"x", filename="x.txt")
    with pytest.raises(ValueError, match="unsaved"):
        orm(Todo(title="a")).detach()
    assert http.requests == []


def test_the_server_refusing_the_file_names_the_field(client: Client, orm: ORM) -> None:
    todo = orm(Todo(title="a")).save()
    with pytest.raises(ValidationError, match="extension") as caught:
        orm(todo).attach(b"MZ", filename="tool.exe")
    assert caught.value.field == "photo"
    assert caught.value.field_errors == [("photo", "File extension is not allowed.")]
    assert caught.value.to_dict()["errors"][0]["field"] == "photo"  # what an API answers
    assert ATTACHMENT_KEY not in stored(client, todo.id)


def test_sources_paths_and_file_objects(client: Client, orm: ORM, tmp_path: pathlib.Path) -> None:
    todo = orm(Todo(title="a")).save()
    source = tmp_path / "notes.txt"
    source.write_bytes(b"# notes")
    attachment = orm(todo).attach(source, mimetype="text/markdown")
    assert (attachment.filename, attachment.mimetype) == ("notes.txt", "text/markdown")
    attachment = orm(todo).attach(str(source), filename="renamed.csv")
    assert attachment.filename == "renamed.csv" and attachment.mimetype == "text/csv"
    with source.open("rb") as f:
        attachment = orm(todo).attach(f)
    assert attachment.filename == "notes.txt" and attachment.hash == sha256(b"# notes")
    attachment = orm(todo).attach(io.BytesIO(b"\x89PNG"), filename="p.png")
    assert attachment.mimetype == "image/png"
    assert stored(client, todo.id)[ATTACHMENT_KEY] == attachment.to_wire()
    with source.open("r") as text, pytest.raises(TypeError, match="binary mode"):
        orm(todo).attach(text)
    with pytest.raises(FileNotFoundError):
        orm(todo).attach(tmp_path / "absent.txt")
    assert todo.photo == attachment


class _Probe(io.BytesIO):
    """A binary file that records the threads it is read and written from."""

    def __init__(self, content: bytes = b"") -> None:
        super().__init__(content)
        self.threads: set[int] = set()
        self.name = "probe.txt"

    def read(self, size: int | None = -1) -> bytes:
        self.threads.add(threading.get_ident())
        return super().read(size)

    def write(self, content: Any) -> int:
        self.threads.add(threading.get_ident())
        return super().write(content)


def test_file_io_is_not_done_on_the_event_loop(orm: ORM) -> None:
    todo = orm(Todo(title="a")).save()
    source, target = _Probe(b"payload"), _Probe()
    orm(todo).attach(source)
    assert orm(todo).download(target) == b"payload"
    assert target.getvalue() == b"payload"
    here = threading.get_ident()  # the sync driver's thread, and the event loop's
    if orm.is_async:
        assert here not in source.threads | target.threads
    else:
        assert source.threads == target.threads == {here}


# --- removal and download ------------------------------------------------------------


def test_detach_removes_the_file_and_takes_the_new_version(
    client: Client, http: Counter, orm: ORM
) -> None:
    todo = orm(Todo(title="a")).save()
    orm(todo).attach(b"x", filename="x.txt")
    before = todo.last_modified
    http.reset()
    orm(todo).detach()
    assert http.methods == ["DELETE"]
    assert http.requests[0][2]["If-Match"] == f'"{before}"'
    server = stored(client, todo.id)
    assert server[ATTACHMENT_KEY] is None  # the plugin leaves the key, null
    assert todo.photo is None and todo.last_modified == server["last_modified"]
    assert not todo.is_dirty
    with pytest.raises(AttachmentError, match="no attachment"):
        orm(todo).download()
    todo.title = "b"
    orm(todo).save()
    assert stored(client, todo.id)["title"] == "b"


def test_download_checks_and_writes(orm: ORM, tmp_path: pathlib.Path) -> None:
    todo = orm(Todo(title="a")).save()
    content = bytes(range(256)) * 40
    orm(todo).attach(content, filename="blob.csv", mimetype="application/octet-stream")
    assert orm(todo).download() == content
    target = tmp_path / "deep" / "copy.bin"  # missing folders are made
    assert orm(todo).download(target) == content
    assert target.read_bytes() == content
    assert orm(todo).download(str(tmp_path)) == content  # a folder: the file's name
    assert (tmp_path / "blob.csv").read_bytes() == content
    buffer = io.BytesIO()
    orm(todo).download(buffer)
    assert buffer.getvalue() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.csv", "deep"]  # no leftovers
    with pytest.raises(TypeError, match="path or a binary file"):
        orm(todo).download(42)


def test_a_loaded_record_downloads_its_file(client: Client, orm: ORM) -> None:
    todo = orm(Todo(title="a")).save()
    orm(todo).attach(b"abc", filename="abc.txt")
    loaded = orm(Todo.objects).get(id=todo.id)
    assert loaded.photo == todo.photo
    assert orm(loaded).download() == b"abc"
    orm(loaded).refresh()
    assert loaded.photo == todo.photo


# --- the field ------------------------------------------------------------------------


def test_the_field_cannot_be_assigned(orm: ORM) -> None:
    todo = orm(Todo(title="a")).save()
    attachment = orm(todo).attach(b"x", filename="x.txt")
    todo.photo = attachment  # what it holds: nothing changes
    with pytest.raises(AttributeError, match=r"todo\.detach\(\)"):
        todo.photo = None
    with pytest.raises(AttributeError, match=r"todo\.attach\("):
        Todo(title="b", photo=attachment)
    with pytest.raises(TypeError, match="Attachment or None"):
        todo.photo = {"location": "x"}
    with pytest.raises(AttributeError):
        del todo.photo
    assert Todo(title="b", photo=None).photo is None
    with pytest.raises(FieldError, match=r"Todo\.photo changes only with attach\(\)"):
        orm(Todo.objects).update(photo=None)
    assert todo.photo == attachment and not todo.is_dirty


def test_queries_name_the_field(client: Client, orm: ORM) -> None:
    small = orm(Todo(title="small")).save()
    orm(small).attach(b"ab", filename="a.txt")
    big = orm(Todo(title="big")).save()
    orm(big).attach(b"abcdef", filename="b.txt")
    orm(Todo(title="bare")).save()
    detached = orm(Todo(title="detached")).save()
    orm(detached).attach(b"x", filename="x.txt")
    orm(detached).detach()

    def titles(qs: Any) -> list[str]:
        return sorted(t.title for t in orm(qs).list())

    assert titles(Todo.objects.filter(photo__size__gt=3)) == ["big"]
    assert titles(Todo.objects.filter(photo__filename="a.txt")) == ["small"]
    assert titles(Todo.objects.filter(photo=small.photo)) == ["small"]  # the stored object
    with pytest.raises(FieldError, match="no field 'extra'"):
        Todo.objects.filter(photo__extra={})  # its extra keys are the object's own
    assert titles(Todo.objects.filter(photo__isnull=True)) == ["bare", "detached"]
    assert titles(Todo.objects.exclude(photo__isnull=True)) == ["big", "small"]
    ordered = orm(Todo.objects.filter(photo__size__gte=0).order_by("-photo__size")).list()
    assert [t.title for t in ordered] == ["big", "small"]
    # only() always brings the attachment key: the field is never wrongly None
    partial = {t.title: t for t in orm(Todo.objects.only("title")).list()}
    assert partial["big"].photo == big.photo and partial["bare"].photo is None
    with_photo = orm(Todo.objects.filter(id=small.id).only("photo")).first()
    assert with_photo.photo == small.photo
    rows = {r["title"]: r for r in orm(Todo.objects).values()}
    assert set(rows["big"]) == {"id", "last_modified", "title", "done", "photo"}
    assert rows["big"]["photo"] == big.photo and rows["bare"]["photo"] is None
    sizes = orm(Todo.objects.filter(id=big.id)).values_list("photo", flat=True)
    assert sizes == [big.photo]
    assert orm(Todo.objects).count() == 4


def test_the_json_schema_describes_the_attachment_key(client: Client, orm: ORM) -> None:
    schema = Todo.json_schema()
    assert schema["properties"][ATTACHMENT_KEY] == ATTACHMENT_SCHEMA
    assert "photo" not in schema["properties"]
    assert schema["required"] == ["title"]

    class Strict(Record, collection="items"):
        json_schema_extra = {"additionalProperties": False}
        title: str
        photo: Attachment | None = None

    # (the collection is the test's own: its bucket goes at the end of the test)
    client.patch_collection(id="items", data={"schema": Strict.json_schema()})
    strict = orm(Strict(title="a")).save()
    orm(strict).attach(b"x", filename="x.txt")  # the server validates the key
    orm(strict).detach()
    assert stored(client, strict.id)[ATTACHMENT_KEY] is None
    # a schema without the key refuses the upload, saying so
    bare = {**Strict.json_schema(), "properties": {"title": {"type": "string"}}}
    client.patch_collection(id="items", data={"schema": bare})
    with pytest.raises(ValidationError, match="'attachment' was unexpected"):
        orm(strict).attach(b"x", filename="x.txt")


def test_a_stored_object_that_is_not_an_attachment(client: Client, orm: ORM) -> None:
    client.create_record(id="odd", data={"title": "a", ATTACHMENT_KEY: "not an object"})
    odd = orm(Todo.objects).get(id="odd")
    with pytest.raises(ValidationError, match="not an attachment object") as caught:
        _ = odd.photo
    assert caught.value.field == "Todo.photo"
    assert "photo=<invalid>" in repr(odd)
    odd.title = "b"
    orm(odd).save()  # the key is kept, untouched
    assert stored(client, "odd")[ATTACHMENT_KEY] == "not an object"


def test_extra_keys_of_the_stored_object_are_kept(client: Client, orm: ORM) -> None:
    wire = {
        "location": "https://cdn.example/a.gz",
        "hash": "0" * 64,
        "size": 3,
        "filename": "a.txt",
        "mimetype": "text/plain",
        "original": {"filename": "a.txt", "size": 9},
    }
    client.create_record(id="gz", data={"title": "a", ATTACHMENT_KEY: wire})
    loaded = orm(Todo.objects).get(id="gz")
    assert loaded.photo is not None
    assert loaded.photo.extra == {"original": {"filename": "a.txt", "size": 9}}
    assert loaded.photo.to_wire() == wire


def test_a_model_defined_with_attrs_define_on_top(client: Client, orm: ORM) -> None:
    @attrs.define
    class Card(Record, collection="items"):
        title: str
        scan: Attachment | None = None

    card = orm(Card(title="a")).save()
    attachment = orm(card).attach(b"x", filename="x.txt")
    assert card.scan == attachment
    with pytest.raises(AttributeError):
        card.scan = None
    assert orm(Card.objects).get(id=card.id).scan == attachment


def test_declarations_that_are_refused() -> None:
    with pytest.raises(TypeError, match=r"2 Attachment fields \(front, back\)"):

        class Two(Record):
            front: Attachment | None = None
            back: Attachment | None = None

    with pytest.raises(TypeError, match=r"Bare\.scan: declare it as `scan: Attachment \| None"):

        class Bare(Record):
            scan: Attachment

    with pytest.raises(TypeError, match=r"Many\.scans: declare it"):

        class Many(Record):
            scans: list[Attachment] = attrs.field(factory=list)

    with pytest.raises(TypeError, match=r"both scan \(an Attachment\) and attachment"):

        class Clash(Record):
            scan: Attachment | None = None
            attachment: str = ""


# --- hooks ---------------------------------------------------------------------------


class Stamped(Record, collection="items"):
    title: str
    stamp: str = ""
    photo: Attachment | None = None


@pytest.fixture
def hooks() -> Iterator[Callable[[Event, Callable[..., Any]], None]]:
    """``hooks(event, fn)`` connects ``fn`` to Stamped until the end of the test."""
    connected: list[tuple[Event, Callable[..., Any]]] = []

    def connect(event: Event, fn: Callable[..., Any]) -> None:
        event.connect(Stamped, fn)
        connected.append((event, fn))

    yield connect
    for event, fn in connected:
        event.disconnect(Stamped, fn)


def test_an_upload_that_creates_the_record_runs_its_create_hooks(
    client: Client, http: Counter, orm: ORM, hooks: Callable[[Event, Callable[..., Any]], None]
) -> None:
    seen: list[tuple[str, str, str]] = []

    def stamp(obj: Stamped, ctx: HookContext) -> None:
        seen.append((ctx.event, ctx.action, ctx.via))
        obj.stamp = "stamped"

    def created(obj: Stamped, ctx: HookContext) -> None:
        assert obj.photo is not None  # the record holds the server's answer
        seen.append((ctx.event, ctx.action, ctx.via))

    hooks(before_save, stamp)
    hooks(after_create, created)
    record = Stamped(title="a")
    orm(record).attach(b"x", filename="x.txt")
    assert seen == [("before_save", "create", "attach"), ("after_create", "create", "attach")]
    assert stored(client, record.id)["stamp"] == "stamped"  # sent with the upload
    seen.clear()
    orm(record).attach(b"y", filename="y.txt")  # a saved record: no field is sent
    orm(record).detach()
    assert seen == []

    def refuse(obj: Stamped, ctx: HookContext) -> None:
        raise PermissionError("no new records today")

    hooks(before_create, refuse)
    http.reset()
    with pytest.raises(PermissionError, match="no new records"):
        orm(Stamped(title="b")).attach(b"x", filename="x.txt")
    assert http.requests == []  # stopped before any request


# --- serialisation -----------------------------------------------------------------------


def test_to_dict_shows_the_field_and_from_dict_leaves_it_to_attach(orm: ORM) -> None:
    todo = orm(Todo(title="a")).save()
    assert todo.to_dict()["photo"] is None
    attachment = orm(todo).attach(b"x", filename="x.txt")
    data = todo.to_dict()
    assert data["photo"] == attachment.to_wire()
    assert "attachment" not in data
    assert "attachment" not in todo.to_dict(extra_fields=True)  # shown once, as the field
    body = todo.to_dict(id=False, last_modified=False)
    copy = Todo.from_dict(body, id=False, last_modified=False)
    assert copy.photo is None and copy.title == "a"  # read-only: ignored
    for mode in ("forbid", "keep"):
        with pytest.raises(ValidationError) as caught:
            Todo.from_dict({"title": "b", "attachment": data["photo"]}, extra_fields=mode)
        assert caught.value.field_errors == [("attachment", "not accepted here")]
    ignored = Todo.from_dict({"title": "b", "attachment": data["photo"]}, extra_fields="ignore")
    assert ignored.photo is None and ignored.extra_fields == {}
