"""Counters of long work, and the progress bar that shows them.

The bar is tqdm's (counts, rate and time left; a small, dependency-free and
well-kept library): drawn on stderr, and only when stderr is a terminal unless
asked otherwise, so that piped or logged output stays clean.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any, Protocol

import attrs
from tqdm import tqdm

__all__ = ["Bar", "Counted", "Timed"]


@attrs.define
class Timed:
    """When the work started, and its pace."""

    started: float = attrs.field(factory=time.monotonic, repr=False, kw_only=True)

    @property
    def done(self) -> int:
        """Items handled so far (each counter says which)."""
        return 0

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Items handled per second since the start."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0


class Counted(Protocol):
    """What a :class:`Bar` shows: a count of items handled."""

    @property
    def done(self) -> int: ...


class Bar:
    """A progress bar on ``file`` (stderr) for ``total`` items (None when unknown);
    ``enabled=None`` draws it only when ``file`` is a terminal. ``bar(progress)``
    moves it to ``progress.done``; use it as a context manager."""

    def __init__(
        self,
        description: str,
        total: int | None = None,
        *,
        enabled: bool | None = None,
        file: IO[str] | None = None,
        unit: str = "records",
    ) -> None:
        file = file if file is not None else sys.stderr
        show = file.isatty() if enabled is None else enabled
        self._bar: tqdm[Any] = tqdm(
            total=total,
            desc=description,
            unit=f" {unit}",
            unit_scale=False,
            file=file,
            disable=not show,
            dynamic_ncols=True,
            leave=True,
        )
        self.shown = show
        self.latest: Any = None

    def __call__(self, progress: Counted) -> None:
        self.latest = progress
        if self.shown:
            self._bar.update(progress.done - self._bar.n)

    def __enter__(self) -> Bar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.close()
