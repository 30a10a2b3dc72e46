"""Models shared by the reliability tests and their worker processes."""

from __future__ import annotations

from kintorm import Record


class Profile(Record, collection="items"):
    name: str = ""
    email: str = ""
    visits: int = 0
