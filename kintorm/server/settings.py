"""What the Kinto child is configured with: backends, pools, plugins, settings, and
the ini file written for it."""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import Mapping

#: threads per process (gunicorn --threads; waitress's default)
_THREADS = 4

_POSTGRESQL_BACKENDS = {
    "kinto.storage_backend": "kinto.core.storage.postgresql",
    "kinto.permission_backend": "kinto.core.permission.postgresql",
    "kinto.cache_backend": "kinto.core.cache.postgresql",
}
# Connections per process: (kept open when idle, opened at most beyond those). Storage
# and permissions share one pool (a request keeps its connection until it ends: one per
# thread, two more for the heartbeat's checks), the cache another (it gives its
# connection back after each call). Kinto's default, 25 kept + 10 per pool and per
# process, let the idle servers of a test session hold every connection they ever
# opened (35 for one 4-worker server after 16 parallel requests, 12 with these) until
# PostgreSQL's max_connections (100) was reached: requests then got 503 ("too many
# clients already").
_POOLS = {"storage": (2, _THREADS), "permission": (2, _THREADS), "cache": (1, _THREADS - 1)}
_POSTGRESQL_POOLS = {
    f"kinto.{name}_{key}": str(value)
    for name, (kept, extra) in _POOLS.items()
    for key, value in (("pool_size", kept), ("max_overflow", extra))
}
_MEMORY_BACKENDS = {
    "kinto.storage_backend": "kinto.core.storage.memory",
    "kinto.permission_backend": "kinto.core.permission.memory",
    "kinto.cache_backend": "kinto.core.cache.memory",
}
_PLUGINS = (
    "kinto.plugins.default_bucket",
    "kinto.plugins.accounts",
    "kinto.plugins.history",
    "kinto.plugins.flush",
    # makes If-Match / If-None-Match writes atomic (stock Kinto can lose updates)
    "kintorm.kinto_plugin",
)
_BASE_SETTINGS = {
    "multiauth.policies": "account",
    "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
    "kinto.account_create_principals": "system.Everyone",
    "kinto.account_write_principals": "account:admin",
    "kinto.bucket_create_principals": "system.Authenticated",
    "kinto.bucket_write_principals": "account:admin",
    "kinto.bucket_read_principals": "account:admin",
    "kinto.experimental_collection_schema_validation": "true",
    "kinto.experimental_permissions_endpoint": "true",
}

# Logging for the child: warnings and tracebacks only, on stderr (the log file).
_LOGGING_INI = """
[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)s [%(name)s] %(message)s
"""

# A Pyramid include written next to the ini: serves the attachment files
# stored under base_path at <server>/v1/attachments/, so base_url resolves.
_ATTACHMENTS_INCLUDE = """
def includeme(config):
    config.add_static_view(name="attachments", path={path!r})
"""
_ATTACHMENTS_MODULE = "_kintorm_attachments_static"


def app_settings(
    *,
    storage_url: str | None,
    attachments: tuple[pathlib.Path, str] | None,
    overrides: Mapping[str, str],
) -> dict[str, str]:
    """The ``[app:main]`` settings: backends (memory, or all three in ``storage_url``),
    plugins, attachments (None, or the directory to store them under and the URL
    they are served at), the base settings, then ``overrides``."""
    app = dict(_POSTGRESQL_BACKENDS if storage_url else _MEMORY_BACKENDS)
    if storage_url:
        for key in ("storage_url", "permission_url", "cache_url"):
            app[f"kinto.{key}"] = storage_url
        app.update(_POSTGRESQL_POOLS)
    includes = list(_PLUGINS)
    if attachments is not None:
        where, base_url = attachments
        files = where / "attachments"
        files.mkdir()
        includes += ["kinto_attachment", _ATTACHMENTS_MODULE]
        app["kinto.attachment.base_path"] = str(files)
        app["kinto.attachment.base_url"] = base_url
        (where / f"{_ATTACHMENTS_MODULE}.py").write_text(
            _ATTACHMENTS_INCLUDE.format(path=str(files))
        )
    app["kinto.includes"] = " ".join(includes)
    app["kinto.userid_hmac_secret"] = secrets.token_hex(32)
    app.update(_BASE_SETTINGS)
    app.update(overrides)
    return app


def ini_text(
    host: str, port: int, server_options: Mapping[str, str], settings: Mapping[str, str]
) -> str:
    """The whole ini file: waitress's ``[server:main]``, Kinto's ``[app:main]``, logging."""
    lines = [
        "[server:main]",
        "use = egg:waitress#main",
        f"host = {host}",
        f"port = {port}",
        *(f"{k} = {v}" for k, v in server_options.items()),
        "",
        "[app:main]",
        "use = egg:kinto",
    ]
    # PasteDeploy interpolates %(name)s in values: escape literal percents.
    lines += [f"{k} = {v.replace('%', '%%')}" for k, v in settings.items()]
    return "\n".join(lines) + "\n" + _LOGGING_INI
