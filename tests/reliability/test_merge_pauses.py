"""The pauses between the attempts of a merging save scale with the server's speed.

A fixed 10 ms pause was nothing next to a loaded machine's round trips: two
writers retried in lock-step, and ``save(on_conflict="merge")`` gave up after 10
attempts about once per hundred saves (tests/reliability/test_racing.py failed
under load).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kintorm.orm.conflicts import MAX_PAUSE, MERGE_ATTEMPTS, _pause


@given(attempt=st.integers(0, MERGE_ATTEMPTS), spent=st.floats(0.0, 30.0))
def test_a_pause_is_at_most_a_few_times_the_failed_attempt(attempt: int, spent: float) -> None:
    seconds = _pause(attempt, spent).seconds
    assert 0.0 <= seconds <= min(2.0**attempt, 8.0) * max(spent, 0.005)
    assert seconds <= MAX_PAUSE  # 30 attempts on a slow server: a minute at most


def test_pauses_grow_with_a_slow_server() -> None:
    # the largest pause of 200 draws: a slow server (1 s attempts) is waited for longer
    quick = max(_pause(3, 0.01).seconds for _ in range(200))
    slow = max(_pause(3, 1.0).seconds for _ in range(200))
    assert quick <= 0.08 < slow <= 8.0
