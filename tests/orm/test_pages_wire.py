"""The exact requests of ``page()`` (``responses``): parameters, Kinto's token sent
back as it came, the requests that fill a page a server cut short, a union's
branches continuing after one ``last_modified``, a ``Next-Page`` link to another
origin never followed; and, over random pairs of queries (Hypothesis), a cursor that
opens only the query that made it, sending nothing otherwise."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kintorm import Client, InvalidCursor, MalformedResponse, Record, set_cursor_key

from .models import Item

SERVER = "https://kinto.test/v1"
RECORDS = f"{SERVER}/buckets/b/collections/items/records"
#: a token as Kinto makes them (base64 of JSON, with + / = to escape in a URL)
TOKEN = base64.b64encode(b'{"last_object": {"n": 3, "last_modified": 12}, "offset": 2}>>?').decode()


@pytest.fixture(autouse=True)
def cursor_key() -> Iterator[None]:
    set_cursor_key("the wire tests' key, of 32 bytes at least")
    yield
    set_cursor_key(None)


class Server:
    """Answers each GET with the next of ``answers`` (records, Next-Page URL or None)
    and records the requests."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.answers: list[tuple[list[dict[str, Any]], str | None]] = []
        self.seen: list[requests.PreparedRequest] = []
        mock.add_callback("GET", RECORDS, self.answer)

    def answer(self, request: requests.PreparedRequest) -> Any:
        self.seen.append(request)
        records, next_page = self.answers.pop(0)
        headers = {"Next-Page": next_page} if next_page else {}
        return 200, headers, json.dumps({"data": records})

    def queries(self) -> list[list[tuple[str, str]]]:
        return [parse_qsl(urlsplit(r.url or "").query) for r in self.seen]


def rows(*numbers: int) -> list[dict[str, Any]]:
    return [{"id": f"r{n}", "last_modified": 100 - n, "title": f"t{n}", "n": n} for n in numbers]


def next_page(token: str, host: str = SERVER) -> str:
    return f"{host}/buckets/b/collections/items/records?_sort=n&_limit=2&" + (
        "_token=" + requests.utils.quote(token, safe="")
    )


@pytest.fixture
def server() -> Iterator[Server]:
    with responses.RequestsMock() as mock:
        yield Server(mock)


@pytest.fixture
def client() -> Client:
    return Client(server_url=SERVER, auth=("alice", "secret"), bucket="b")


def test_a_page_and_the_next_one(server: Server, client: Client) -> None:
    qs = Item.objects.using(client).filter(done=False).order_by("n").only("title")
    server.answers = [(rows(1, 2), next_page(TOKEN)), (rows(3), None)]
    first = qs.page(2)
    assert [r.id for r in first] == ["r1", "r2"] and first.next_cursor is not None
    assert TOKEN not in first.next_cursor
    last = qs.page(2, first.next_cursor)
    assert [r.id for r in last] == ["r3"] and last.next_cursor is None
    assert server.seen[0].url == f"{RECORDS}?done=false&_sort=n&_fields=title&_limit=2"
    assert server.queries()[1] == [
        ("done", "false"),
        ("_sort", "n"),
        ("_fields", "title"),
        ("_limit", "2"),
        ("_token", TOKEN),  # Kinto's token, exactly as it came
    ]
    assert all(r.headers["Authorization"].startswith("Basic ") for r in server.seen)


def test_a_page_cut_short_by_the_server_is_filled(server: Server, client: Client) -> None:
    """The server serves 2 per response (``paginate_by``): page(5) asks for 5, then for
    the 3 missing after its token, then for the last one."""
    second, third = TOKEN + "A", TOKEN + "B"
    server.answers = [
        (rows(1, 2), next_page(TOKEN)),
        (rows(3, 4), next_page(second)),
        (rows(5), next_page(third)),
    ]
    page = Item.objects.using(client).order_by("n").page(5)
    assert [r.id for r in page] == ["r1", "r2", "r3", "r4", "r5"]
    sent = [dict(q) for q in server.queries()]
    assert [(q["_limit"], q.get("_token")) for q in sent] == [
        ("5", None),
        ("3", TOKEN),
        ("1", second),
    ]
    server.answers = [(rows(6), None)]
    assert [r.id for r in Item.objects.using(client).order_by("n").page(9, page.next_cursor)] == [
        "r6"
    ]
    assert dict(server.queries()[-1]) == {"_sort": "n", "_limit": "9", "_token": third}


def test_next_page_on_another_origin_is_read_not_followed(server: Server, client: Client) -> None:
    """Only the link's ``_token`` is read; the next page goes to the client's server."""
    server.answers = [(rows(1), next_page(TOKEN, "https://elsewhere.test/v1")), (rows(2), None)]
    qs = Item.objects.using(client).order_by("n")
    cursor = qs.page(1).next_cursor
    assert [r.id for r in qs.page(1, cursor)] == ["r2"]
    assert all(urlsplit(r.url or "").netloc == "kinto.test" for r in server.seen)


def test_a_union_continues_each_branch_after_one_last_modified(
    server: Server, client: Client
) -> None:
    """``due__isnull=True``: ``due=null`` and ``due`` missing, merged by
    ``-last_modified``; the cursor holds the last_modified of the page's last record
    and both branches continue after it (Kinto's token form)."""
    null, missing = rows(1, 4), rows(2, 3)  # last_modified 99, 96 / 98, 97
    server.answers = [(null, None), (missing, None)]
    qs = Item.objects.using(client).filter(due__isnull=True)
    first = qs.page(3)
    assert [r.id for r in first] == ["r1", "r2", "r3"] and first.next_cursor
    branches = [list(c.params) for c in qs.compile_all()]  # due=null / due missing
    assert len(branches) == 2 and branches[0] == [("due", "null")]
    assert server.queries() == [[*branch, ("_limit", "3")] for branch in branches]
    server.answers = [(rows(4), None), ([], None)]
    last = qs.page(3, first.next_cursor)
    assert [r.id for r in last] == ["r4"] and last.next_cursor is None
    for branch, query in zip(branches, server.queries()[2:], strict=True):
        assert query[:-1] == [*branch, ("_limit", "3")]
        token = json.loads(base64.b64decode(dict(query)["_token"]))
        assert token["last_object"] == {"last_modified": 97}  # r3's


def test_a_branch_with_more_keeps_the_union_going(server: Server, client: Client) -> None:
    """A branch that said Next-Page has more records, even when the page took them
    all: the next cursor is there."""
    server.answers = [(rows(1), next_page(TOKEN)), ([], None)]
    page = Item.objects.using(client).filter(due__isnull=True).page(1)
    assert [r.id for r in page] == ["r1"] and page.next_cursor is not None


def test_a_next_page_without_a_token_is_malformed(server: Server, client: Client) -> None:
    server.answers = [(rows(1), f"{RECORDS}?_limit=1")]
    with pytest.raises(MalformedResponse, match="Next-Page link without a _token"):
        Item.objects.using(client).page(1)


# --- a cursor of one query never reads another ------------------------------------------


class Mirror(Record, bucket="b", collection="items"):
    """Item's twin: another model on the same collection."""

    title: str
    n: int = 0
    done: bool = False
    due: datetime.date | None = None


@st.composite
def queries(draw: st.DrawFn) -> Any:
    model = draw(st.sampled_from([Item, Mirror]))
    qs = model.objects.all()
    for lookup, values in {
        "done": st.booleans(),
        "n__gt": st.integers(0, 2),
        "title": st.sampled_from(["a", "b"]),
        "due__isnull": st.just(True),
    }.items():
        if draw(st.booleans()):
            qs = qs.filter(**{lookup: draw(values)})
    union = len(qs.compile_all()) > 1
    orders = [(), ("last_modified",), ("-last_modified",)]
    if not union:
        orders += [("n",), ("-n",), ("title", "-n")]
    qs = qs.order_by(*draw(st.sampled_from(orders)))
    fields = draw(st.sampled_from([None, ("title",), ("title", "n")]))
    return qs if fields is None else qs.only(*fields)


def _same_query(a: Any, b: Any) -> bool:
    """One model, and the same parameters in each request (their order aside)."""
    requests_of = [sorted(c.params) for c in a.compile_all()]
    return a.model is b.model and requests_of == [sorted(c.params) for c in b.compile_all()]


@settings(max_examples=150, deadline=None)
@given(made_by=queries(), data=st.data())
def test_a_cursor_opens_only_its_own_query(made_by: Any, data: st.DataObject) -> None:
    used_with = data.draw(st.one_of(st.just(made_by.all()), queries()))
    event("the same query" if _same_query(made_by, used_with) else "another query")
    client = Client(server_url=SERVER, auth=("alice", "secret"), bucket="b")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        server = Server(mock)
        server.answers = [(rows(1), next_page(TOKEN))] * 8
        cursor = made_by.using(client).page(1).next_cursor
        assert cursor is not None
        sent = len(server.seen)
        if _same_query(made_by, used_with):
            used_with.using(client).page(1, cursor)
            assert len(server.seen) > sent
        else:
            with pytest.raises(InvalidCursor):
                used_with.using(client).page(1, cursor)
            assert len(server.seen) == sent  # nothing asked, nothing returned
