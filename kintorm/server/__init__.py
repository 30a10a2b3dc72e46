"""Start and stop a real Kinto server in a subprocess.

The server runs from the Python environment of the caller (``sys.executable``):
``kinto start`` (pserve + waitress) for one process, gunicorn with ``--paste``
for several worker processes. The child never imports kintorm, and every HTTP
call made here uses the standard library only, so this module does not depend
on the client.

Example::

    with KintoServer() as server:
        print(server.url, server.admin_auth)

Memory backends are the default. With ``storage_url="postgresql://..."`` the
storage, permission and cache backends all live in that database
(``kinto migrate`` runs first) and ``workers > 1`` becomes possible.

Start-up fails with a :class:`ServerError` that says what to do when Kinto is not
installed (``pip install 'kintorm[server]'``), when the port is already taken,
or when PostgreSQL refuses the connection (one line: a missing database or role).
``startup_timeout`` counts the time the server's processes make no progress
(use no CPU), so a loaded machine slows a start down without failing it.

The package, by concern (each module imports only those above it)::

    errors.py      ServerError, the message for a missing ``server`` extra
    http.py        http_json: one JSON request with urllib
    settings.py    backends, pools, plugins, base settings; the ini file's text
    postgresql.py  locating PostgreSQL, creating the database, a one-line refusal
    process.py     process groups, cleanup at exit and on SIGTERM, the start-up
                   deadline that follows CPU use, ports
    lifecycle.py   KintoServer: start (ini, migrate, spawn, readiness), stop, accounts

The modules share their underscore names among themselves; outside the package
only the names imported here are meant to be used.
"""

from kintorm.server.errors import INSTALL_HINT, ServerError, missing_server_extra
from kintorm.server.http import http_json
from kintorm.server.lifecycle import KintoServer
from kintorm.server.postgresql import (
    DEFAULT_PG_URL,
    PG_DB_SUFFIX_ENV,
    PG_URL_ENV,
    postgresql_status,
    postgresql_url,
)

# kept importable from here for the tests that read them
from kintorm.server.process import _group_cpu_ticks as _group_cpu_ticks
from kintorm.server.settings import _PLUGINS as _PLUGINS

__all__ = [
    "DEFAULT_PG_URL",
    "INSTALL_HINT",
    "PG_DB_SUFFIX_ENV",
    "PG_URL_ENV",
    "KintoServer",
    "ServerError",
    "http_json",
    "missing_server_extra",
    "postgresql_status",
    "postgresql_url",
]
