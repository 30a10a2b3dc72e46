"""The kinto-changes changeset and the kinto-signer / remote-settings review workflow.

Both are server plugins that plain Kinto does not ship:

* ``GET /buckets/{bid}/collections/{cid}/changeset`` (kinto-changes, now part of
  kinto-remote-settings) answers ``{"metadata": {...}, "timestamp": N,
  "changes": [...]}`` in one response. Its ``_expected`` parameter is required and
  serves as a cache key: ``0`` unless ``bust_cache=True``, which sends a random one
  so that a CDN in front of the server answers afresh.
* The review workflow is a PATCH of the collection's ``status`` (plus a comment),
  which the signer plugin acts on: ``to-review``, ``work-in-progress`` (declined),
  ``to-sign`` (approved), ``to-rollback``.

The methods are operations, as in ``base.py``: one definition for ``Client`` and
``AsyncClient``, recorded like any other call inside a batch. Their parameters are
kinto-http's, positional ones included (``client.request_review("please")``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, ClassVar

from kintorm.client.effects import Op
from kintorm.client.encoding import encode_params
from kintorm.client.endpoints import endpoint
from kintorm.client.messages import Request
from kintorm.client.operation import operation
from kintorm.client.resources import JSONDict, Verbs

#: The range kinto-http draws its cache-busting ``_expected`` value from.
BUST_CACHE_RANGE = (999999000000, 999999999999)

#: What each review step writes into the collection's data (kinto-signer's STATUS
#: values); the comment goes into the field named second, when there is one.
REVIEW_STEPS: Mapping[str, tuple[str, str | None]] = {
    "request_review": ("to-review", "last_editor_comment"),
    "decline_changes": ("work-in-progress", "last_reviewer_comment"),
    "approve_changes": ("to-sign", None),
    "rollback_changes": ("to-rollback", "last_editor_comment"),
}


def quote_since(value: Any) -> Any:
    """``_since`` as the changeset endpoint requires it: an integer between double
    quotes (``"123"``). Integers and digit strings are quoted; a quoted integer is sent
    as it is; anything else raises ValueError before the request (the server would
    answer 400)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"_since must be a timestamp (an integer), not {value!r}")
    text = str(value)
    if text.isdigit():
        return f'"{text}"'
    if len(text) > 2 and text[0] == text[-1] == '"' and text[1:-1].isdigit():
        return text
    raise ValueError(f"_since must be a timestamp (an integer), not {value!r}")


class Review(Verbs):
    """Changesets and the signing review workflow, mixed into ``BaseClient``."""

    #: BaseClient's operation, which the review steps are made of
    patch_collection: ClassVar[Any]

    @operation
    def get_changeset(
        self,
        /,
        bucket: str | None = None,
        collection: str | None = None,
        bust_cache: bool = False,
        **kwargs: Any,
    ) -> Op[JSONDict]:
        """``GET .../changeset`` (kinto-changes): the collection's metadata, its
        timestamp and its records (``changes``), in one response.

        ``_expected`` is 0 unless given, or a random value with ``bust_cache=True``;
        ``_since=<timestamp>`` returns only what changed after it, tombstones
        included (sent quoted, as the endpoint requires); ``_limit`` is passed on.
        """
        params = dict(kwargs)
        params.setdefault("_expected", random.randint(*BUST_CACHE_RANGE) if bust_cache else 0)
        if "_since" in params:
            params["_since"] = quote_since(params["_since"])
        path = endpoint(
            "changeset",
            bucket=bucket if bucket is not None else self.bucket_name,
            collection=collection if collection is not None else self.collection_name,
        )
        return (yield from self._json(Request("GET", path, encode_params(params))))

    def _review_step(
        self, step: str, message: str | None, id: str | None, bucket: str | None, kwargs: Any
    ) -> Op[JSONDict]:
        """The collection PATCH of one review step, through ``patch_collection`` (so
        ``safe``/``if_match``/``permissions``/``data`` mean what they mean there)."""
        status, comment_field = REVIEW_STEPS[step]
        if kwargs.get("changes") is not None:
            # kinto-http sends the patch instead, silently dropping the status
            raise TypeError(
                f"{step}() sends the collection's status as data: pass other fields as "
                "data=, not changes="
            )
        kwargs.pop("changes", None)
        data: JSONDict = {**(kwargs.pop("data", None) or {}), "status": status}
        if comment_field is not None:
            data[comment_field] = message
        result: JSONDict = yield from type(self).patch_collection.op(
            self, id=id, bucket=bucket, data=data, **kwargs
        )
        return result

    @operation
    def request_review(
        self, /, message: str, id: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Op[JSONDict]:
        """Ask for a review: ``status: to-review`` with ``last_editor_comment``."""
        return self._review_step("request_review", message, id, bucket, kwargs)

    @operation
    def decline_changes(
        self, /, message: str, id: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Op[JSONDict]:
        """Send the changes back: ``status: work-in-progress`` with
        ``last_reviewer_comment``."""
        return self._review_step("decline_changes", message, id, bucket, kwargs)

    @operation
    def approve_changes(
        self, /, id: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Op[JSONDict]:
        """Approve the changes under review: ``status: to-sign``."""
        return self._review_step("approve_changes", None, id, bucket, kwargs)

    @operation
    def rollback_changes(
        self, /, message: str, id: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Op[JSONDict]:
        """Drop the pending changes: ``status: to-rollback`` with ``last_editor_comment``."""
        return self._review_step("rollback_changes", message, id, bucket, kwargs)
