"""kintorm's data tools, on the client's dicts: ``dump`` and ``load`` (JSON lines,
streamed, resumable) and ``model_source`` (the attrs model of an existing collection).

The ``kintorm dump``, ``kintorm load`` and ``kintorm inspect`` commands run them;
see docs/cli.md.
"""

from __future__ import annotations

from kintorm.tools.dump import DumpProgress, dump
from kintorm.tools.inspection import model_source
from kintorm.tools.load import Failure, LoadProgress, load

__all__ = ["DumpProgress", "Failure", "LoadProgress", "dump", "load", "model_source"]
