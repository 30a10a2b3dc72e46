"""Introspection of the client: every public method has a signature, help() shows it.

The methods are ``operation`` / ``stream`` descriptors (kintorm/client/operation.py);
``inspect.signature`` used to raise TypeError on them.
"""

from __future__ import annotations

import inspect
import pydoc
from typing import Any

import pytest

from kintorm import AsyncClient, Client

from ._wire import Wire

SERVER = "http://kinto.test/v1"
CLIENTS = {"Client": Client, "AsyncClient": AsyncClient}


def public_methods(cls: type) -> list[str]:
    names = [n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))]
    assert len(names) > 40, names  # the whole kinto-http API, not an empty listing
    return names


@pytest.mark.parametrize("cls_name", list(CLIENTS))
def test_every_public_method_has_a_signature(cls_name: str) -> None:
    cls = CLIENTS[cls_name]
    client = cls(server_url=SERVER)
    for name in public_methods(cls):
        unbound = inspect.signature(getattr(cls, name))
        bound = inspect.signature(getattr(client, name))
        assert list(bound.parameters) == list(unbound.parameters)[1:], name  # minus self
        assert "self" not in bound.parameters, name


def test_bound_signatures_give_what_each_client_returns() -> None:
    sync, aio = Client(server_url=SERVER), AsyncClient(server_url=SERVER)
    get = inspect.signature(sync.get_record)
    assert list(get.parameters) == ["id", "collection", "bucket", "kwargs"]
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY
        for p in get.parameters.values()
        if p.name != "kwargs"
    )
    assert get.return_annotation == "JSONDict"
    assert inspect.signature(aio.get_record).return_annotation == "Coroutine[Any, Any, JSONDict]"
    assert inspect.signature(sync.get_paginated_records).return_annotation == "Iterator[Any]"
    pages = inspect.signature(aio.get_paginated_records)
    assert pages.return_annotation == "AsyncIterator[Any]"


@pytest.mark.parametrize("target", ["class", "instance"])
def test_help_shows_the_docstring_and_the_arguments(target: str) -> None:
    method: Any = Client.get_records if target == "class" else Client(server_url=SERVER).get_records
    text = pydoc.render_doc(method, renderer=pydoc.plaintext)
    assert "get_records(" in text
    assert "collection: 'str | None' = None" in text
    assert "Every record (following ``Next-Page``)" in text
    assert "operation object" not in text


def test_the_class_attribute_is_callable_with_the_client_first(wire: Wire) -> None:
    """``Client.get_record(client, id=...)`` works like an unbound method."""
    body = {"data": {"id": "r1", "last_modified": 1}}
    wire.reply("GET", "/buckets/b/collections/c/records/r1", json=body)
    got = wire.run(lambda c: type(c).get_record(c, id="r1", bucket="b", collection="c"))
    assert got == body
