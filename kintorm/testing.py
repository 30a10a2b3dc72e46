"""pytest plugin: a real Kinto for integration tests.

Registered through the ``pytest11`` entry point (``kintorm = "kintorm.testing"``);
``pytest_plugins = ["kintorm.testing"]`` in a conftest works too.

Fixtures:

``kinto_server`` (session)
    a memory :class:`~kintorm.server.KintoServer` (``$KINTORM_BACKEND=postgresql``:
    Kinto on PostgreSQL with 4 workers, skipped with the reason when unreachable),
    or the server named by ``$KINTORM_SERVER_URL`` (API root, ``.../v1``) with
    ``$KINTORM_SERVER_AUTH`` (``user:pass``; a fresh account is created when unset).
``kinto_server_url``, ``kinto_admin_auth`` (session)
    its URL and admin credentials.
``kinto_bucket`` (function)
    a unique bucket id, ``test-<12 hex>``; nothing is created.
``kinto_client`` (function)
    a ``kintorm.Client`` on a fresh bucket with an ``items`` collection; the
    bucket is deleted afterwards.
``kinto_pg_server`` (session)
    Kinto on PostgreSQL with 4 gunicorn workers, flushed at start; skipped
    with the reason when PostgreSQL is not reachable (with
    ``$KINTORM_BACKEND=postgresql``, the same server as ``kinto_server``).

Without Kinto installed, the server fixtures fail in one line saying
``pip install 'kintorm[server]'``.

Tests stay isolated by bucket, not by flushing: ``/__flush__`` also deletes
the accounts of every other test.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from kintorm.server import KintoServer, missing_server_extra, postgresql_status

if TYPE_CHECKING:
    from kintorm import Client

SERVER_URL_ENV = "KINTORM_SERVER_URL"
SERVER_AUTH_ENV = "KINTORM_SERVER_AUTH"
BACKEND_ENV = "KINTORM_BACKEND"
PG_DBNAME = "kintorm_test"
#: the database of the session server when KINTORM_BACKEND=postgresql
SUITE_PG_DBNAME = "kintorm_suite"
PG_WORKERS = 4


def _external_server() -> KintoServer | None:
    url = os.environ.get(SERVER_URL_ENV)
    if not url:
        return None
    auth = os.environ.get(SERVER_AUTH_ENV)
    if auth:
        user, _, password = auth.partition(":")
        return KintoServer.connect(url, (user, password))
    server = KintoServer.connect(url, ("unused", "unused"))
    server.admin_auth = server.create_account(
        f"kintorm-{secrets.token_hex(6)}", secrets.token_urlsafe(16)
    )
    return server


def _require_server_extra(workers: int = 1, postgresql: bool = False) -> None:
    """Fail the test in one line (``pip install 'kintorm[server]'``), not with an
    ImportError from Kinto's subprocess."""
    missing = missing_server_extra(workers, postgresql)
    if missing is not None:
        pytest.fail(f"kintorm's Kinto fixtures: {missing}", pytrace=False)


@pytest.fixture(scope="session")
def kinto_server() -> Iterator[KintoServer]:
    external = _external_server()
    if external is not None:
        yield external
        return
    backend = os.environ.get(BACKEND_ENV, "memory")
    _require_server_extra(PG_WORKERS if backend == "postgresql" else 1, backend == "postgresql")
    if backend == "memory":
        with KintoServer() as server:
            yield server
        return
    if backend != "postgresql":
        raise pytest.UsageError(f"{BACKEND_ENV} is 'memory' or 'postgresql', not {backend!r}")
    url, reason = postgresql_status(SUITE_PG_DBNAME)
    if url is None:
        pytest.skip(f"{BACKEND_ENV}=postgresql: {reason}")
    with KintoServer(storage_url=url, workers=PG_WORKERS) as server:
        server.flush()  # the database outlives runs: start from empty
        yield server


@pytest.fixture(scope="session")
def kinto_server_url(kinto_server: KintoServer) -> str:
    return kinto_server.url


@pytest.fixture(scope="session")
def kinto_admin_auth(kinto_server: KintoServer) -> tuple[str, str]:
    return kinto_server.admin_auth


@pytest.fixture
def kinto_bucket() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def kinto_client(
    kinto_server_url: str, kinto_admin_auth: tuple[str, str], kinto_bucket: str
) -> Iterator[Client]:
    from kintorm import Client  # imported at use: only this fixture needs the client

    client = Client(
        server_url=kinto_server_url, auth=kinto_admin_auth, bucket=kinto_bucket, collection="items"
    )
    client.create_bucket(id=kinto_bucket, if_not_exists=True)
    client.create_collection(id="items", bucket=kinto_bucket, if_not_exists=True)
    try:
        yield client
    finally:
        client.delete_bucket(id=kinto_bucket, if_exists=True)


@pytest.fixture(scope="session")
def kinto_pg_server(request: pytest.FixtureRequest) -> Iterator[KintoServer]:
    if os.environ.get(BACKEND_ENV) == "postgresql" and not os.environ.get(SERVER_URL_ENV):
        # the session server is already Kinto on PostgreSQL with 4 workers: a second
        # one would double the start-up time and the database connections
        yield request.getfixturevalue("kinto_server")
        return
    _require_server_extra(PG_WORKERS, postgresql=True)
    url, reason = postgresql_status(PG_DBNAME)
    if url is None:
        pytest.skip(reason)
    with KintoServer(storage_url=url, workers=PG_WORKERS) as server:
        server.flush()  # the database outlives runs: start from empty
        yield server
