"""What a query set's reads do once compiled: list, load, count, get by id.

Functions of the compiled requests, the model and the client (no query set):
:func:`records` streams the listing (merging the branches of a union),
:func:`instances` loads its records (``on_invalid`` through ``invalid``),
:func:`count_op` adds up the HEAD counts and :func:`get_by_id_op` is the
single-object GET of ``get(id=...)`` (:func:`record_op` its request, 404 as
``DoesNotExist``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import KintoException
from kintorm.client.listing_cache import ListingCache
from kintorm.client.operation import Stream
from kintorm.client.protocol import Op
from kintorm.client.resources import JSONDict
from kintorm.client.retries import Decoder
from kintorm.orm._requests import count_op as head_count_op
from kintorm.orm._requests import merged_records_stream, records_stream
from kintorm.orm.codec.core import codec_for
from kintorm.orm.exceptions import InvalidRecord
from kintorm.orm.persist import location
from kintorm.orm.query.spec import CompiledRequest, QuerySpec, union_descending

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["count_op", "get_by_id_op", "record_op", "records"]

M = TypeVar("M", bound="RecordLike")
#: what a query set does with a record that does not fit the model (on_invalid)
Invalid = Callable[[InvalidRecord], None]


def records(
    client: BaseClient,
    compiled: Sequence[CompiledRequest],
    spec: QuerySpec,
    cache: ListingCache | None = None,
    *,
    whole: bool = False,
    decode: Decoder | None = None,
) -> Stream:
    """The pages of the listing, the slice applied; a union's listings merged in order.
    Each listing is revalidated in ``cache`` when given (a 304 per listing). ``whole``:
    the caller reads every page; ``decode``: the pages' decoder then, for a single
    listing (see ``records_stream``)."""
    if len(compiled) == 1:
        request = compiled[0].request()
        return records_stream(
            client, request, spec.start, spec.stop, cache, whole=whole, decode=decode
        )
    descending = union_descending(spec)
    requests = [c.request() for c in compiled]
    return merged_records_stream(client, requests, descending, spec.start, spec.stop, cache)


def count_op(client: BaseClient, compiled: Sequence[CompiledRequest], spec: QuerySpec) -> Op[int]:
    """The number of records: one HEAD per query (disjoint), the slice applied."""
    total = 0
    for query in compiled:
        total += yield from head_count_op(client, query.path, query.params)
    if spec.stop is not None:
        total = min(total, spec.stop)
    return max(0, total - spec.start)


def record_op(model: type[RecordLike], client: BaseClient, record_id: str) -> Op[JSONDict]:
    """The body of ``GET`` on the record ``record_id`` (data and permissions);
    ``model.DoesNotExist`` on 404."""
    bucket, collection = location(model, client)
    try:
        body: JSONDict = yield from BaseClient.get_record.op(
            client, id=record_id, bucket=bucket, collection=collection
        )
    except KintoException as exc:
        if getattr(exc.response, "status_code", None) == 404:
            raise model.DoesNotExist(
                f"{model.__name__} {record_id!r} does not exist in "
                f"bucket {bucket!r}, collection {collection!r}"
            ) from exc
        raise
    return body


def get_by_id_op(
    model: type[M],
    client: BaseClient,
    record_id: str,
    invalid: Invalid,
    remember: BaseClient | None = None,
) -> Op[M]:
    """The record ``record_id`` (a single-object GET, permissions included), which
    remembers ``remember``; ``model.DoesNotExist`` when it is missing or skipped by
    ``invalid``."""
    body = yield from record_op(model, client, record_id)
    try:
        return codec_for(model).load(body["data"], body.get("permissions"), client=remember)  # type: ignore[no-any-return]
    except InvalidRecord as exc:
        invalid(exc)
        raise model.DoesNotExist(
            f"{model.__name__} {record_id!r} does not fit the model and was skipped (on_invalid)"
        ) from exc
