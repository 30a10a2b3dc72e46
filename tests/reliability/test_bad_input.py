"""Bad input, and the exception it gets: each row of the table in docs/reliability.md.

Local checks raise before anything is sent (the client of ``offline`` fails the
test if it sends). Hypothesis fuzzes the response parser (random bytes and random
JSON as the body of get_record / get_records / batch: only KintoException
subclasses may come out) and the converters of kintorm/orm/convert.py.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import uuid
from typing import Any

import attrs
import pytest
import responses
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kintorm import (
    BucketNotFound,
    Client,
    CollectionNotFound,
    ConflictError,
    DoesNotExist,
    FieldError,
    KintoException,
    MalformedResponse,
    PermissionDenied,
    PreconditionFailed,
    Record,
    TransportError,
    ValidationError,
)
from kintorm.client.exceptions import KintoBatchException
from kintorm.orm.convert import structure_value, unstructure_value
from kintorm.server import KintoServer

from .conftest import make_client

SERVER = "http://kinto.test/v1"
RECORD_URL = SERVER + "/buckets/b/collections/c/records/r1"
RECORDS_URL = SERVER + "/buckets/b/collections/c/records"
SERVER_INFO = {"settings": {"batch_max_requests": 25}, "project_name": "kinto"}


class Todo(Record, collection="items"):
    title: str = ""
    done: bool = False
    due: datetime.date | None = None
    notes: dict[str, Any] = attrs.field(factory=dict)


class _Offline:
    def send(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a request was sent although local validation failed")


@pytest.fixture
def offline() -> Client:
    """A client that fails the test if anything is sent."""
    client = Client(server_url=SERVER, bucket="b", collection="c")
    client._transport = _Offline()
    return client


# --- local validation: nothing sent ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["bad id!", "", "../etc", "-leading", "a/b", "é"])
def test_invalid_ids_raise_value_error(offline: Client, bad: str) -> None:
    with pytest.raises(ValueError, match="invalid record id"):
        offline.get_record(id=bad)
    with pytest.raises(ValueError, match="invalid bucket id"):
        offline.create_bucket(id=bad or "x/")
    with pytest.raises(ValueError, match="invalid record id"):
        Todo.objects.using(offline).create(id=bad or "x/", title="x")


def test_typoed_filter_fields_raise_field_error(offline: Client) -> None:
    todos = Todo.objects.using(offline)
    for query in (
        lambda: todos.filter(titel="x"),
        lambda: todos.exclude(dne=True),
        lambda: todos.order_by("-titel"),
        lambda: todos.only("titel"),
        lambda: todos.filter(title__regex="x"),
    ):
        with pytest.raises(FieldError):
            list(query())


@pytest.mark.parametrize(
    ("lookups", "key"),
    [
        ({"done": "yes"}, "done"),
        ({"done__ne": 1}, "done__ne"),
        ({"title": 42}, "title"),
        ({"title__in": ["a", 2]}, "title__in"),
        ({"due__gt": "tomorrow"}, "due__gt"),
    ],
)
def test_lookup_values_of_the_wrong_type_raise_validation_error(
    offline: Client, lookups: dict[str, Any], key: str
) -> None:
    """Kinto would match nothing, silently; the value is checked against the field."""
    with pytest.raises(ValidationError) as info:
        list(Todo.objects.using(offline).filter(**lookups))
    assert info.value.field == key
    with pytest.raises(ValidationError):
        list(Todo.objects.using(offline).exclude(**lookups))


def test_lookup_values_that_fit_the_field_pass() -> None:
    from kintorm.orm.query import compile_lookups

    assert compile_lookups(Todo, {"done": None, "title__in": ["a", "b"]}) == [
        ("exclude_done", "true,false"),  # None: null or missing, neither true nor false
        ("in_title", '"a","b"'),
    ]


def test_unknown_model_argument_raises_type_error() -> None:
    with pytest.raises(TypeError, match="titel"):
        Todo(titel="x")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": 42}, "title"),
        ({"done": "yes"}, "done"),
        ({"due": "tomorrow"}, "due"),
        ({"notes": {"x": object()}}, "notes"),
        ({"notes": {"x": float("nan")}}, "notes"),
        ({"title": "half a pair \ud800"}, "title"),  # a lone surrogate is not text
    ],
)
def test_wrong_or_unserialisable_values_raise_validation_error(
    offline: Client, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Todo.objects.using(offline).create(**fields)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("data", "exc"),
    [
        ({"x": object()}, TypeError),
        ({"x": float("nan")}, ValueError),
        ({"x": math.inf}, ValueError),
        ({"x": "\udc00"}, ValueError),
    ],
)
def test_unserialisable_values_in_client_calls(
    offline: Client, data: dict[str, Any], exc: type[Exception]
) -> None:
    with pytest.raises(exc):
        offline.create_record(data=data)


def test_a_patch_that_is_not_a_patch_type(offline: Client) -> None:
    with pytest.raises(TypeError, match="BasicPatch, MergePatch or JSONPatch"):
        offline.patch_record(id="r1", changes={"title": "x"})  # type: ignore[arg-type]


# --- the server says no -------------------------------------------------------------------


def test_a_payload_over_the_server_limit() -> None:
    with KintoServer(server_options={"max_request_body_size": "10000"}) as server:
        client = make_client(server, "big")
        with pytest.raises(KintoException, match="over the server's limit") as info:
            client.create_record(data={"x": "a" * 20_000})
        assert info.value.response.status_code == 413
        assert not isinstance(info.value, MalformedResponse)
        client.create_record(data={"x": "a" * 1000})  # under the limit: fine


def test_wrong_credentials_are_anonymous(kinto_server: KintoServer, bucket: str) -> None:
    client = make_client(kinto_server, bucket)
    user, _ = kinto_server.admin_auth
    wrong = Client(server_url=kinto_server.url, auth=(user, "wrong"), bucket=bucket)
    assert "user" not in wrong.server_info()  # no error: just nobody
    with pytest.raises(KintoException) as info:
        wrong.get_records(collection="items")
    assert info.value.response.status_code == 401
    client.patch_collection(id="items", permissions={"read": ["system.Everyone"]})
    assert wrong.get_records(collection="items") == []  # public data: readable anonymously
    client.delete_bucket(id=bucket)


@pytest.fixture
def stranger(kinto_server: KintoServer) -> tuple[str, str]:
    return kinto_server.create_account(f"stranger-{uuid.uuid4().hex[:8]}", "stranger-password")


def test_a_missing_bucket_is_403(kinto_server: KintoServer, stranger: tuple[str, str]) -> None:
    client = Client(server_url=kinto_server.url, auth=stranger, bucket="no-such-bucket")
    with pytest.raises(BucketNotFound) as info:
        client.get_bucket()
    assert info.value.response.status_code == 403
    with pytest.raises(KintoException) as listing:
        client.get_records(collection="items")
    assert listing.value.response.status_code == 403
    with pytest.raises(CollectionNotFound, match="no bucket 'no-such-bucket'") as write:
        Todo.objects.using(client).create(title="x")  # a write: Kinto answers 404 errno 111
    assert write.value.response.status_code == 404


def test_a_bucket_not_writable_is_permission_denied(
    kinto_server: KintoServer, stranger: tuple[str, str], bucket: str
) -> None:
    make_client(kinto_server, bucket)
    client = Client(server_url=kinto_server.url, auth=stranger, bucket=bucket)
    with pytest.raises(PermissionDenied, match="does not exist, or you are not allowed"):
        Todo.objects.using(client).create(title="x")


def test_a_deleted_record_is_404(kinto_server: KintoServer, bucket: str) -> None:
    client = make_client(kinto_server, bucket)
    todos = Todo.objects.using(client)
    todo = todos.create(title="x")
    todos.get(id=todo.id).delete()
    with pytest.raises(KintoException) as info:
        client.get_record(id=str(todo.id), collection="items")
    assert info.value.response.status_code == 404
    with pytest.raises(DoesNotExist):
        todos.get(id=todo.id)
    todo.title = "y"
    with pytest.raises(ConflictError, match="was deleted on the server") as conflict:
        todo.save()
    assert conflict.value.current is None
    with pytest.raises(DoesNotExist):
        todo.refresh()
    client.delete_bucket(id=bucket)


# --- malformed or partial responses ------------------------------------------------------


def _run(status: int, body: bytes, call: Any, content_type: str = "application/json") -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add("GET", SERVER + "/", json=SERVER_INFO)
        for method, url in (
            ("GET", RECORD_URL),
            ("GET", RECORDS_URL),
            ("POST", SERVER + "/batch"),
        ):
            mock.add(method, url, status=status, body=body, content_type=content_type)
        return call(Client(server_url=SERVER, bucket="b", collection="c"))


def _get_record(c: Client) -> Any:
    return c.get_record(id="r1")


def _get_records(c: Client) -> Any:
    return c.get_records()


def _batch(c: Client) -> Any:
    with c.batch() as b:
        b.create_record(id="r1", data={"x": 1})
    return b.results()


@pytest.mark.parametrize(
    ("status", "body", "call", "exc"),
    [
        (200, b"<html>login</html>", _get_record, MalformedResponse),
        (200, b'{"data": {"id": "r1", "ti', _get_record, MalformedResponse),
        (200, b"[1, 2]", _get_record, MalformedResponse),
        (200, b'{"data": {"id": "r1"}}', _get_records, MalformedResponse),
        (200, b'{"responses": []}', _batch, MalformedResponse),
        (502, b"<html>502 Bad Gateway</html>", _get_record, MalformedResponse),
        (412, b'{"code": 412, "err', _get_record, PreconditionFailed),
        (500, b'{"code": 500, "errno": 999}', _get_record, KintoException),
    ],
)
def test_malformed_or_partial_responses(status: int, body: bytes, call: Any, exc: type) -> None:
    with pytest.raises(exc):
        _run(status, body, call)


def test_no_server_is_a_transport_error() -> None:
    with pytest.raises(TransportError):
        Client(server_url="http://127.0.0.1:9/v1").server_info()


# --- fuzzing ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
kinto_shaped = st.fixed_dictionaries(
    {},
    optional={
        "data": json_values,
        "responses": st.lists(
            st.fixed_dictionaries(
                {},
                optional={"status": json_values, "body": json_values, "headers": json_values},
            ),
            max_size=2,
        ),
        "details": json_values,
        "code": json_values,
    },
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_kinto_exceptions(status: int, body: bytes, calls: Any) -> None:
    for call in calls:
        with contextlib.suppress(KintoException):
            _run(status, body, call)


@FUZZ
@given(status=st.sampled_from([200, 201, 304, 400, 404, 412, 500]), body=st.binary(max_size=64))
def test_fuzz_random_bytes(status: int, body: bytes) -> None:
    _only_kinto_exceptions(status, body, (_get_record, _get_records, _batch))


@FUZZ
@given(status=st.sampled_from([200, 201, 400, 412]), payload=json_values | kinto_shaped)
def test_fuzz_random_json(status: int, payload: Any) -> None:
    _only_kinto_exceptions(status, json.dumps(payload).encode(), (_get_record, _get_records))


@FUZZ
@given(status=st.sampled_from([200, 201, 400, 412]), payload=json_values | kinto_shaped)
@example(status=200, payload={"responses": [{"status": None}]})
def test_fuzz_random_json_as_a_batch_response(status: int, payload: Any) -> None:
    _only_kinto_exceptions(status, json.dumps(payload).encode(), (_batch,))


CONVERTED_TYPES = [
    str,
    int,
    float,
    bool,
    datetime.date,
    datetime.datetime,
    list[int],
    dict[str, str],
    int | None,
]
python_values = (
    json_values
    | st.dates()
    | st.datetimes()
    | st.builds(object)
    | st.sets(st.integers(), max_size=3)
)


@FUZZ
@given(value=json_values, type_=st.sampled_from(CONVERTED_TYPES))
def test_fuzz_structure_value(value: Any, type_: Any) -> None:
    with contextlib.suppress(ValidationError):
        structure_value(value, type_, "f")


@FUZZ
@given(value=python_values, type_=st.sampled_from(CONVERTED_TYPES))
def test_fuzz_unstructure_value(value: Any, type_: Any) -> None:
    try:
        wire = unstructure_value(value, type_, "f")
    except ValidationError:
        return
    json.dumps(wire, allow_nan=False)  # what passes can be sent


def test_batch_exception_is_a_kinto_exception() -> None:
    assert issubclass(KintoBatchException, KintoException)
