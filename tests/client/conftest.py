"""Fixtures: ``wire`` (both clients), ``sync_wire``, ``rsps`` and ``sleeps``."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator

import pytest
import responses

from ._wire import METHODS, Wire


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _make_wire(mode: str, rsps: responses.RequestsMock) -> Wire:
    wire = Wire(mode)
    if mode == "sync":
        for method in METHODS:
            rsps.add_callback(method, re.compile(r"https?://.*"), wire._responses_callback)
    return wire


@pytest.fixture(params=["sync", "async"])
def wire(request: pytest.FixtureRequest, rsps: responses.RequestsMock) -> Wire:
    """Both clients, one after the other."""
    return _make_wire(request.param, rsps)


@pytest.fixture
def sync_wire(rsps: responses.RequestsMock) -> Wire:
    """The sync client only (``responses``)."""
    return _make_wire("sync", rsps)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits of both drivers instead of waiting."""
    waits: list[float] = []

    async def async_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("kintorm.client.sync.time", types.SimpleNamespace(sleep=waits.append))
    monkeypatch.setattr("kintorm.client.aio.asyncio", types.SimpleNamespace(sleep=async_sleep))
    return waits
