"""ServerError, and the message for a start without the ``server`` extra."""

from __future__ import annotations

import importlib
import importlib.util

#: the modules a start needs, and who needs them
_REQUIRED = (("kinto", "Kinto"), ("gunicorn", "workers > 1"), ("psycopg2", "PostgreSQL"))
INSTALL_HINT = "pip install 'kintorm[server]'"


class ServerError(RuntimeError):
    """The Kinto subprocess failed to start (the message says why, or ends with its log)."""


def missing_server_extra(workers: int = 1, postgresql: bool = False) -> str | None:
    """The message for a start that lacks the ``server`` extra, None when all is there."""
    needed = {"Kinto": True, "workers > 1": workers > 1, "PostgreSQL": postgresql}
    for module, purpose in _REQUIRED:
        if needed[purpose] and importlib.util.find_spec(module) is None:
            return f"{purpose} needs the {module!r} module, which is not installed: {INSTALL_HINT}"
    return None
