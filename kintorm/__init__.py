"""kintorm: typed models and a complete sync/async client for Kinto."""

from kintorm._version import __version__
from kintorm.client import (
    AsyncClient,
    BackoffException,
    BasicPatch,
    BearerTokenAuth,
    BucketNotFound,
    Client,
    CollectionNotFound,
    JSONPatch,
    KintoBatchException,
    KintoClient,
    KintoException,
    MalformedResponse,
    MergePatch,
    PatchType,
    PreconditionFailed,
    TokenAuth,
    TransportError,
)

__all__ = [
    "AsyncClient",
    "BackoffException",
    "BasicPatch",
    "BearerTokenAuth",
    "BucketNotFound",
    "Client",
    "CollectionNotFound",
    "JSONPatch",
    "KintoBatchException",
    "KintoClient",
    "KintoException",
    "MalformedResponse",
    "MergePatch",
    "PatchType",
    "PreconditionFailed",
    "TokenAuth",
    "TransportError",
    "__version__",
]
