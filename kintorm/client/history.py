"""A bucket's history (``kinto.plugins.history``) and the permissions endpoint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kintorm.client.effects import Op
from kintorm.client.endpoints import endpoint
from kintorm.client.operation import operation
from kintorm.client.resources import JSONDict, Verbs, given


class History(Verbs):
    """History and permissions methods, mixed into ``BaseClient``."""

    @operation
    def get_history(self, /, *, bucket: str | None = None, **kwargs: Any) -> Op[list[JSONDict]]:
        """Entries of the bucket's history (``kinto.plugins.history``), every page."""
        path = endpoint("history", bucket=given(bucket, self.bucket_name))
        return self._list(path, kwargs)

    @operation
    def purge_history(
        self,
        /,
        *,
        bucket: str | None = None,
        safe: bool = True,
        if_match: Any = None,
        **kwargs: Any,
    ) -> Op[list[JSONDict]]:
        """Delete the bucket's history entries matching the filters in ``kwargs``."""
        path = endpoint("history", bucket=given(bucket, self.bucket_name))
        return self._delete_all(path, safe, if_match, kwargs)

    @operation
    def get_permissions(
        self, /, exclude_resource_names: Iterable[str] | None = None, **kwargs: Any
    ) -> Op[list[JSONDict]]:
        """Every object the current user has permissions on, every page (kinto-http
        returns only the first); ``_limit`` sets the page size, ``pages=`` caps the pages."""
        params: dict[str, Any] = {"_sort": "id", "pages": float("inf"), **kwargs}
        if exclude_resource_names:
            params["exclude_resource_name"] = ",".join(exclude_resource_names)
        return self._list(endpoint("permissions"), params)
