"""Buckets, groups and collections: kinto-http's methods on the objects that hold others.

Each method is an :class:`~kintorm.client.operation.operation` (one definition for
``Client`` and ``AsyncClient``), a one-line use of a verb of ``resources.py``.
"""

from __future__ import annotations

from typing import Any

from kintorm.client.effects import Op
from kintorm.client.endpoints import endpoint
from kintorm.client.operation import operation
from kintorm.client.patch import PatchType
from kintorm.client.resources import JSONDict, Permissions, Verbs, given


class Containers(Verbs):
    """The bucket, group and collection methods, mixed into ``BaseClient``."""

    # --- buckets --------------------------------------------------------------

    @operation
    def get_buckets(self, /, **kwargs: Any) -> Op[list[JSONDict]]:
        """Every bucket, following ``Next-Page`` (one page with ``_limit``); filters are
        passed on."""
        return self._list(endpoint("buckets"), kwargs)

    @operation
    def get_bucket(self, /, *, id: str | None = None, **kwargs: Any) -> Op[JSONDict]:
        """The bucket ``{'data': ..., 'permissions': ...}``; ``None`` when ``if_none_match``
        matched."""
        return self._get("bucket", self._path("bucket", bucket=id), kwargs)

    @operation
    def create_bucket(
        self,
        /,
        *,
        id: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Op[JSONDict]:
        """Create the bucket (``If-None-Match: *`` unless ``safe=False``); with
        ``if_not_exists``, an existing one is read instead."""
        bucket = given(id, (data or {}).get("id"), self.bucket_name)
        return self._create("bucket", {"bucket": bucket}, data, permissions, safe, if_not_exists)

    @operation
    def update_bucket(
        self,
        /,
        *,
        id: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        """Replace the bucket's data and permissions (``If-Match`` on ``if_match`` or
        ``data['last_modified']`` when ``safe``)."""
        path = self._path("bucket", bucket=given(id, (data or {}).get("id")))
        return self._update(path, data, permissions, safe, if_match)

    @operation
    def patch_bucket(
        self,
        /,
        *,
        id: str | None = None,
        changes: PatchType | None = None,
        data: JSONDict | None = None,
        original: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        """Patch the bucket with ``changes`` (BasicPatch, MergePatch or JSONPatch; a BasicPatch
        of ``data``/``permissions`` by default)."""
        path = self._path("bucket", bucket=given(id, (original or data or {}).get("id")))
        return self._patch(path, changes, data, original, permissions, safe, if_match)

    @operation
    def delete_bucket(
        self,
        /,
        *,
        id: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        if_exists: bool = False,
    ) -> Op[JSONDict | None]:
        """Delete the bucket; its tombstone, or ``None`` with ``if_exists`` when it was already
        gone."""
        return self._delete("bucket", self._path("bucket", bucket=id), safe, if_match, if_exists)

    @operation
    def delete_buckets(
        self, /, *, safe: bool = True, if_match: Any = None, **kwargs: Any
    ) -> Op[list[JSONDict]]:
        """Delete every bucket matching the filters in ``kwargs``; their tombstones."""
        return self._delete_all(endpoint("buckets"), safe, if_match, kwargs)

    # --- groups ---------------------------------------------------------------

    @operation
    def get_groups(self, /, *, bucket: str | None = None, **kwargs: Any) -> Op[list[JSONDict]]:
        """Every group of the bucket (this client's by default), every page; filters and
        ``_sort``/``_limit`` are passed on."""
        path = self._path("group", plural=True, bucket=bucket)
        return self._list(path, kwargs)

    @operation
    def get_group(self, /, *, id: str, bucket: str | None = None, **kwargs: Any) -> Op[JSONDict]:
        """The group ``{'data': ..., 'permissions': ...}``; ``None`` when ``if_none_match``
        matched."""
        return self._get("group", self._path("group", group=id, bucket=bucket), kwargs)

    @operation
    def create_group(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Op[JSONDict]:
        """Create the group (``If-None-Match: *`` unless ``safe=False``); with ``if_not_exists``,
        an existing one is read instead."""
        ids = {"group": given(id, (data or {}).get("id")), "bucket": bucket}
        return self._create("group", ids, data, permissions, safe, if_not_exists)

    @operation
    def update_group(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        """Replace the group's data and permissions (``If-Match`` on ``if_match`` or
        ``data['last_modified']`` when ``safe``)."""
        path = self._path("group", group=given(id, (data or {}).get("id")), bucket=bucket)
        return self._update(path, data, permissions, safe, if_match)

    @operation
    def patch_group(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        changes: PatchType | None = None,
        data: JSONDict | None = None,
        original: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        """Patch the group with ``changes`` (BasicPatch, MergePatch or JSONPatch; a BasicPatch of
        ``data``/``permissions`` by default)."""
        group = given(id, (original or data or {}).get("id"))
        path = self._path("group", group=group, bucket=bucket)
        return self._patch(path, changes, data, original, permissions, safe, if_match)

    @operation
    def delete_group(
        self,
        /,
        *,
        id: str,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        if_exists: bool = False,
    ) -> Op[JSONDict | None]:
        """Delete the group; its tombstone, or ``None`` with ``if_exists`` when it was already
        gone."""
        path = self._path("group", group=id, bucket=bucket)
        return self._delete("group", path, safe, if_match, if_exists)

    @operation
    def delete_groups(
        self,
        /,
        *,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        **kwargs: Any,
    ) -> Op[list[JSONDict]]:
        """Delete every group of the bucket (this client's by default) matching the filters in
        ``kwargs``; their tombstones."""
        path = self._path("group", plural=True, bucket=bucket)
        return self._delete_all(path, safe, if_match, kwargs)

    # --- collections ----------------------------------------------------------

    @operation
    def get_collections(self, /, *, bucket: str | None = None, **kwargs: Any) -> Op[list[JSONDict]]:
        """Every collection of the bucket (this client's by default), every page; filters and
        ``_sort``/``_limit`` are passed on."""
        path = self._path("collection", plural=True, bucket=bucket)
        return self._list(path, kwargs)

    @operation
    def get_collection(
        self, /, *, id: str | None = None, bucket: str | None = None, **kwargs: Any
    ) -> Op[JSONDict]:
        """The collection ``{'data': ..., 'permissions': ...}``; ``None`` when ``if_none_match``
        matched."""
        path = self._path("collection", collection=id, bucket=bucket)
        return self._get("collection", path, kwargs)

    @operation
    def create_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> Op[JSONDict]:
        """Create the collection (``If-None-Match: *`` unless ``safe=False``); with
        ``if_not_exists``, an existing one is read instead."""
        ids = {"collection": given(id, (data or {}).get("id")), "bucket": bucket}
        return self._create("collection", ids, data, permissions, safe, if_not_exists)

    @operation
    def update_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        data: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        """Replace the collection's data and permissions (``If-Match`` on ``if_match`` or
        ``data['last_modified']`` when ``safe``)."""
        collection = given(id, (data or {}).get("id"))
        path = self._path("collection", collection=collection, bucket=bucket)
        return self._update(path, data, permissions, safe, if_match)

    @operation
    def patch_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        changes: PatchType | None = None,
        data: JSONDict | None = None,
        original: JSONDict | None = None,
        permissions: Permissions | None = None,
        safe: bool = True,
        if_match: Any = None,
    ) -> Op[JSONDict]:
        """Patch the collection with ``changes`` (BasicPatch, MergePatch or JSONPatch; a
        BasicPatch of ``data``/``permissions`` by default)."""
        collection = given(id, (original or data or {}).get("id"))
        path = self._path("collection", collection=collection, bucket=bucket)
        return self._patch(path, changes, data, original, permissions, safe, if_match)

    @operation
    def delete_collection(
        self,
        /,
        *,
        id: str | None = None,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        if_exists: bool = False,
    ) -> Op[JSONDict | None]:
        """Delete the collection; its tombstone, or ``None`` with ``if_exists`` when it was
        already gone."""
        path = self._path("collection", collection=id, bucket=bucket)
        return self._delete("collection", path, safe, if_match, if_exists)

    @operation
    def delete_collections(
        self,
        /,
        *,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        **kwargs: Any,
    ) -> Op[list[JSONDict]]:
        """Delete every collection of the bucket (this client's by default) matching the filters
        in ``kwargs``; their tombstones."""
        path = self._path("collection", plural=True, bucket=bucket)
        return self._delete_all(path, safe, if_match, kwargs)
