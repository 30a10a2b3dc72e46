"""The three PATCH flavours Kinto understands, by content type."""

from __future__ import annotations

from typing import Any


class PatchType:
    """A PATCH body and the content type that says how the server applies it."""

    content_type: str = "application/json"

    @property
    def body(self) -> Any:  # pragma: no cover - overridden
        """What is sent as the request body (JSON-ready)."""
        raise NotImplementedError


class _DataPermissionsPatch(PatchType):
    def __init__(
        self, data: dict[str, Any] | None = None, permissions: dict[str, Any] | None = None
    ) -> None:
        self.data = data
        self.permissions = permissions

    @property
    def body(self) -> dict[str, Any]:
        """``{"data": ..., "permissions": ...}``, without the parts that are ``None``."""
        parts = {"data": self.data, "permissions": self.permissions}
        return {k: v for k, v in parts.items() if v is not None}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data={self.data!r}, permissions={self.permissions!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _DataPermissionsPatch)
            and type(other) is type(self)
            and other.body == self.body
        )

    __hash__ = None  # type: ignore[assignment]


class BasicPatch(_DataPermissionsPatch):
    """``application/json``: top-level fields replace the object's; ``None`` *sets* null."""

    content_type = "application/json"


class MergePatch(_DataPermissionsPatch):
    """``application/merge-patch+json`` (RFC 7396): nested objects merge, ``None`` deletes."""

    content_type = "application/merge-patch+json"


class JSONPatch(PatchType):
    """``application/json-patch+json`` (RFC 6902) operations on ``/data/...`` and
    ``/permissions/<perm>/<principal>``."""

    content_type = "application/json-patch+json"

    def __init__(self, operations: list[dict[str, Any]]) -> None:
        self.operations = operations

    @property
    def body(self) -> list[dict[str, Any]]:
        """The list of RFC 6902 operations, as sent."""
        return self.operations

    def __repr__(self) -> str:
        return f"JSONPatch({self.operations!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JSONPatch) and other.operations == self.operations

    __hash__ = None  # type: ignore[assignment]
