"""The Kinto HTTP client (kinto-http's API), sync and async."""

from kintorm.client.aio import AsyncClient
from kintorm.client.auth import BearerTokenAuth, TokenAuth
from kintorm.client.exceptions import (
    BackoffException,
    BucketNotFound,
    CollectionNotFound,
    KintoBatchException,
    KintoException,
    MalformedResponse,
    PreconditionFailed,
    TransportError,
)
from kintorm.client.login import BrowserOAuth
from kintorm.client.patch import BasicPatch, JSONPatch, MergePatch, PatchType
from kintorm.client.sync import Client, KintoClient

__all__ = [
    "AsyncClient",
    "BackoffException",
    "BasicPatch",
    "BearerTokenAuth",
    "BrowserOAuth",
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
]
