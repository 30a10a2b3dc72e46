"""A permission backend for the bench's memory-backend Kinto: Kinto's own, plus an
index of each object's access control entries.

Kinto's memory permission backend keeps every entry under a ``permission:<object
id>:<permission>`` key of one dict, and finds an object's entries by scanning all
the keys (``get_objects_permissions``). Every response that carries an object (each
created, replaced or read record) makes that scan, so a server holding 27,000
entries (20,000 records written by one account, a third of them shared) spends
about 2.6 ms per record on it, and writing or reading 20,000 records grows
quadratic: the data tools' bench did not finish in 20 minutes. PostgreSQL reads
them through an index. Here the dict keeps that index as it changes; everything
else, and every answer, is Kinto's (``tests/test_bench.py`` compares the two on
random operations).

Enable with ``kinto.permission_backend = bench.kinto_permission``. This module runs
inside the Kinto process: it imports Kinto, never kintorm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from kinto.core.decorators import synchronized
from kinto.core.permission import memory

_PREFIX = "permission:"


def _object_id(key: str) -> str | None:
    """The object of an entry's key (None for the other keys: user principals)."""
    if not key.startswith(_PREFIX):
        return None
    return key.split(":", 2)[1]


class IndexedStore(dict[str, set[str]]):
    """Kinto's store (a dict), which also keeps the keys of each object's entries.

    Kinto's memory backend only sets, deletes, reads and iterates keys; the methods
    that would change the dict past the index are refused."""

    def __init__(self) -> None:
        super().__init__()
        self.by_object: dict[str, set[str]] = {}

    def __setitem__(self, key: str, value: set[str]) -> None:
        super().__setitem__(key, value)
        object_id = _object_id(key)
        if object_id is not None:
            self.by_object.setdefault(object_id, set()).add(key)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        object_id = _object_id(key)
        if object_id is not None:
            keys = self.by_object[object_id]
            keys.discard(key)
            if not keys:
                del self.by_object[object_id]

    def _unindexed(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("IndexedStore changes only through item assignment and del")

    pop = popitem = clear = update = setdefault = __ior__ = _unindexed  # type: ignore[assignment]


class Permission(memory.Permission):
    """Kinto's memory permission backend, reading an object's entries by index."""

    def flush(self) -> None:
        self._store = IndexedStore()

    @synchronized
    def get_objects_permissions(
        self, objects_ids: list[str], permissions: list[str] | None = None
    ) -> list[dict[str, set[str]]]:
        if permissions is not None or any(":" in object_id for object_id in objects_ids):
            # Kinto's own: the index does not help (or, with ':' in an id, would
            # not find what its prefix match finds)
            result: list[dict[str, set[str]]] = super().get_objects_permissions(
                objects_ids, permissions
            )
            return result
        store = self._store
        assert isinstance(store, IndexedStore)
        return [_entries(store, store.by_object.get(object_id, ())) for object_id in objects_ids]


def _entries(store: IndexedStore, keys: Iterable[str]) -> dict[str, set[str]]:
    return {key.split(":", 2)[2]: set(store[key]) for key in keys}


def load_from_config(config: Any) -> Permission:
    """Kinto's entry point for a permission backend."""
    return Permission()
