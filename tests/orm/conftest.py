from __future__ import annotations

from collections.abc import Iterator

import pytest

from kintorm import Client
from kintorm.orm import connection


@pytest.fixture
def client(kinto_client: Client) -> Iterator[Client]:
    """A client on a fresh bucket (collection "items"), installed as the default client."""
    connection.connect(client=kinto_client)
    try:
        yield kinto_client
    finally:
        connection.disconnect()


class Counter:
    """Counts the HTTP requests a client sends (its transport is wrapped)."""

    def __init__(self, client: Client) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.statuses: list[int] = []
        self.bodies: list[object] = []
        transport = client._transport
        original = transport.send

        def send(request, url, headers, timeout, auth):  # type: ignore[no-untyped-def]
            self.requests.append((request.method, url, dict(headers)))
            self.bodies.append(request.json())
            response = original(request, url, headers, timeout, auth)
            self.statuses.append(response.status_code)
            return response

        transport.send = send

    def reset(self) -> None:
        self.requests.clear()
        self.statuses.clear()
        self.bodies.clear()

    @property
    def methods(self) -> list[str]:
        return [m for m, _, _ in self.requests]


@pytest.fixture
def http(client: Client) -> Counter:
    return Counter(client)
