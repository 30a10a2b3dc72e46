"""The Kinto HTTP client (kinto-http's API), sync and async."""

from kintorm.client.aio import AsyncClient
from kintorm.client.auth import BearerTokenAuth, TokenAuth
from kintorm.client.base import Page
from kintorm.client.endpoints import Endpoints
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
from kintorm.client.listing_cache import ListingCache
from kintorm.client.login import BrowserOAuth
from kintorm.client.patch import BasicPatch, JSONPatch, MergePatch, PatchType
from kintorm.client.session import Session, create_session
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
    "Endpoints",
    "JSONPatch",
    "KintoBatchException",
    "KintoClient",
    "KintoException",
    "ListingCache",
    "MalformedResponse",
    "MergePatch",
    "Page",
    "PatchType",
    "PreconditionFailed",
    "Session",
    "TokenAuth",
    "TransportError",
    "create_session",
]
