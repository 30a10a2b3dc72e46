"""URL templates of Kinto's resources, and the id rule Kinto applies to them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Formatter

#: Kinto's id rule for buckets, groups, collections and records
#: (``kinto.core.storage.generators.Generator.regexp``).
VALID_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")

ENDPOINTS: Mapping[str, str] = {
    "root": "/",
    "batch": "/batch",
    "permissions": "/permissions",
    "buckets": "/buckets",
    "bucket": "/buckets/{bucket}",
    "history": "/buckets/{bucket}/history",
    "groups": "/buckets/{bucket}/groups",
    "group": "/buckets/{bucket}/groups/{group}",
    "collections": "/buckets/{bucket}/collections",
    "collection": "/buckets/{bucket}/collections/{collection}",
    "records": "/buckets/{bucket}/collections/{collection}/records",
    "record": "/buckets/{bucket}/collections/{collection}/records/{id}",
    "attachment": "/buckets/{bucket}/collections/{collection}/records/{id}/attachment",
    "changeset": "/buckets/{bucket}/collections/{collection}/changeset",
}

_FIELDS: Mapping[str, tuple[str, ...]] = {
    name: tuple(f for _, f, _, _ in Formatter().parse(template) if f)
    for name, template in ENDPOINTS.items()
}


class MissingIdError(ValueError, KeyError):
    """An id needed to build a path was not given. A ValueError, as kintorm's other bad
    input, and a KeyError, which kinto-http raises there ("Please provide a group id")."""

    __str__ = ValueError.__str__


def check_id(kind: str, value: object) -> str:
    """Return ``value`` if Kinto accepts it as an id; raise ValueError naming it otherwise.

    kinto-http rewrites ("slugifies") such ids silently, which can make two
    different names land on the same object; kintorm refuses them instead.
    """
    if not isinstance(value, str) or not VALID_ID.fullmatch(value):
        raise ValueError(
            f"invalid {kind} id {value!r}: Kinto ids match {VALID_ID.pattern} "
            "(letters, digits, '-' and '_', not starting with '-' or '_')"
        )
    return value


def endpoint(name: str, **ids: str | int | None) -> str:
    """The path of endpoint ``name``; every id it needs must be given and valid. An
    integer id (kinto-http's ``delete_record(id=1234)``) is its decimal string."""
    try:
        template = ENDPOINTS[name]
    except KeyError:
        raise ValueError(f"unknown endpoint {name!r}; known: {', '.join(ENDPOINTS)}") from None
    values = {}
    for field in _FIELDS[name]:
        value = ids.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            raise MissingIdError(f"cannot build the {name!r} endpoint: no {field} given")
        values[field] = check_id(field if field != "id" else "record", value)
    return template.format(**values)


_path_of = endpoint


class Endpoints:
    """kinto-http's ``Endpoints``: ``Endpoints().get("record", bucket=..., collection=...,
    id=...)`` is the path of that endpoint (``root`` is put before it).

    Ids are checked as everywhere in kintorm (``ValueError`` for one Kinto would
    reject), never rewritten; a missing one raises ``ValueError`` naming it.
    """

    endpoints: Mapping[str, str] = ENDPOINTS

    def __init__(self, root: str = "") -> None:
        self._root = root

    def get(self, endpoint: str, **kwargs: str | int | None) -> str:
        """The full URL of ``endpoint`` (``"bucket"``, ``"records"``, ...) for the ids in
        ``kwargs`` (``bucket=``, ``collection=``, ``id=``...). Raises KeyError for an unknown
        endpoint and MissingIdError when one of its ids is not given."""
        ids = {name: value for name, value in kwargs.items() if value is not None}
        return self._root + _path_of(endpoint, **ids)
