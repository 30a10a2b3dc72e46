"""The async fan-out's gate: at most ``limit`` in flight, fewer after push-back."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

from kintorm.client.operation import AsyncDriver
from kintorm.client.protocol import Op, Sleep
from kintorm.orm.drive import Fanout, run_async

WORK = "work"  # an effect the fake driver performs by handing the loop over


class FakeDriver(AsyncDriver):
    async def _arun(self, op: Op[Any]) -> Any:
        outcome: Any = None
        try:
            while True:
                effect = op.send(outcome)
                assert isinstance(effect, Sleep) or effect == WORK, effect
                await asyncio.sleep(0)
                outcome = None
        except StopIteration as stop:
            return stop.value

    def _run(self, op: Op[Any]) -> Any:
        return self._arun(op)


class Flight:
    """Ops that note how many were in flight when each started."""

    def __init__(self) -> None:
        self.active = 0
        self.at_start: list[int] = []

    def op(self, pushed_back: bool) -> Generator[Any, Any, int]:
        self.active += 1
        self.at_start.append(self.active)
        try:
            yield WORK  # the first request, then a 409 and a wait before re-sending
            yield Sleep(0) if pushed_back else WORK
            yield WORK
            return len(self.at_start)
        finally:
            self.active -= 1

    def run(self, pattern: list[bool], limit: int = 4) -> list[int]:
        def action() -> Generator[Any, Any, list[int]]:
            results: list[int] = yield Fanout([self.op(p) for p in pattern], limit=limit)
            return results

        results = asyncio.run(run_async(FakeDriver(), action()))
        assert len(results) == len(pattern) and self.active == 0
        return results


def test_without_push_back_the_limit_is_reached_and_kept() -> None:
    flight = Flight()
    flight.run([False] * 12)
    assert max(flight.at_start) == 4


def test_push_back_halves_what_is_admitted() -> None:
    flight = Flight()
    flight.run([True] * 12)
    assert max(flight.at_start) == 4  # the first wave
    # each of the first wave waited: 4 -> 2 -> 1 -> 1; every later op runs alone
    assert set(flight.at_start[4:]) == {1}, flight.at_start


def test_ops_that_do_not_wait_grow_it_back_to_the_limit() -> None:
    flight = Flight()
    flight.run([True] * 4 + [False] * 20)
    assert flight.at_start[4] == 1
    assert max(flight.at_start[4:]) == 4, flight.at_start


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="concurrency must be at least 1"):
        Fanout([], limit=limit)
