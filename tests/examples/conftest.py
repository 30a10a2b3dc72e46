"""The example Todo API (examples/todo_app) on the real Kinto of the test session:
two Kinto accounts, an app per test on a bucket of its own, its test clients (sync,
and async through ASGI), and a record of what the app sends to Kinto."""

from __future__ import annotations

import base64
import contextlib
import contextvars
import pathlib
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kintorm import Client
from kintorm.server import KintoServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``examples`` is not part of the installed package
    sys.path.insert(0, str(ROOT))

from examples.todo_app.app import create_app  # noqa: E402

#: the user whose request to the app is running ("app" outside any), set by the tests
serving: contextvars.ContextVar[str] = contextvars.ContextVar("serving", default="app")


def basic(account: str, password: str) -> str:
    """The Authorization header of a Kinto account."""
    return "Basic " + base64.b64encode(f"{account}:{password}".encode()).decode()


class Users:
    """Alice and Bob: Kinto accounts (``account``: name -> account id, ``password``),
    and the headers that authenticate them (``headers("alice")``)."""

    def __init__(self, server: KintoServer) -> None:
        suffix = uuid.uuid4().hex[:8]
        self.password = {name: f"{name}-{uuid.uuid4().hex}" for name in ("alice", "bob")}
        self.account = {name: f"{name}-{suffix}" for name in self.password}
        for name, password in self.password.items():
            server.create_account(self.account[name], password)

    def headers(self, name: str, **more: str) -> dict[str, str]:
        return {"Authorization": basic(self.account[name], self.password[name]), **more}

    def principal(self, name: str) -> str:
        return f"account:{self.account[name]}"


@pytest.fixture(scope="session")
def users(kinto_server: KintoServer) -> Users:
    return Users(kinto_server)


@pytest.fixture(autouse=True)
def cursor_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker of an API needs one key (without it kintorm warns, an error here)."""
    monkeypatch.setenv("KINTORM_CURSOR_KEY", "the-example-APIs-key-of-at-least-32-bytes")


@pytest.fixture
def app(kinto_server: KintoServer) -> Iterator[FastAPI]:
    bucket = f"todo-{uuid.uuid4().hex[:10]}"
    yield create_app(kinto_server.url, bucket=bucket, admin_auth=kinto_server.admin_auth)
    admin = Client(server_url=kinto_server.url, auth=kinto_server.admin_auth)
    admin.delete_bucket(id=bucket, if_exists=True)


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:  # runs the lifespan: the app's client is open
        yield client


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """An async client of ``app``: requests run in the task that sends them."""
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://todos") as client:
            yield client


class Upstream:
    """What the app sends to Kinto, through the connection pool its client and every
    clone share: ``seen`` holds (user served, user named by the Authorization header,
    method, path, status); "app" for no credentials, "stranger" for others."""

    def __init__(self, app: FastAPI, users: Users) -> None:
        self.seen: list[tuple[str, str, str, str, int]] = []
        self.lock = threading.Lock()
        self.names = {basic(users.account[n], users.password[n]): n for n in users.account}
        transport = app.state.kinto._transport
        original = transport.send

        async def send(request: Any, url: str, headers: Any, timeout: Any, auth: Any) -> Any:
            response = await original(request, url, headers, timeout, auth)
            header = headers.get("Authorization")
            sender = "app" if header is None else self.names.get(header, "stranger")
            seen = (serving.get(), sender, request.method, request.path, response.status_code)
            with self.lock:
                self.seen.append(seen)
            return response

        transport.send = send

    def statuses(self, method: str, path_end: str) -> list[int]:
        return [s[4] for s in self.seen if s[2] == method and s[3].endswith(path_end)]
