"""The progress bar: drawn on a terminal with counts, rate and time left; silent
when its output is not a terminal, unless asked."""

from __future__ import annotations

import io

from kintorm.tools.load import LoadProgress
from kintorm.tools.progress import Bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_counts_rate_and_time_left() -> None:
    out = _Terminal()
    with Bar("load", 100, file=out) as bar:
        bar(LoadProgress(written=40))
        bar(LoadProgress(written=90, unchanged=10))
    text = out.getvalue()
    assert "load: 100%" in text and "100/100" in text
    assert "records/s" in text and "<" in text  # tqdm's [elapsed<left, rate]
    assert bar.latest.done == 100


def test_not_a_terminal_gets_nothing_unless_asked() -> None:
    out = io.StringIO()
    with Bar("dump", 10, file=out) as bar:
        bar(LoadProgress(written=10))
    assert out.getvalue() == ""
    assert bar.latest.written == 10  # still kept, for the summary of an interruption
    forced = io.StringIO()
    with Bar("dump", 10, file=forced, enabled=True) as bar:
        bar(LoadProgress(written=10))
    assert "10/10" in forced.getvalue()
