"""What the mapper checks about the server it writes to.

Stock Kinto checks ``If-Match`` by reading, comparing, then writing: two writers
holding one version can both get 200, and one update is lost without anyone
being told (two thirds of racing increments on PostgreSQL with 4 workers, see
docs/reliability.md). ``kintorm.kinto_plugin`` closes that window and announces
itself in the server's capabilities; a guarded save on a server that does not
announce it warns, once per client.
"""

from __future__ import annotations

import warnings
import weakref

from kintorm.client.base import BaseClient
from kintorm.client.exceptions import KintoException
from kintorm.client.protocol import Op
from kintorm.kinto_plugin import CAPABILITY

__all__ = ["NOT_ATOMIC_WARNING", "warn_unless_atomic_op"]

NOT_ATOMIC_WARNING = (
    "the Kinto server at {url} does not announce kintorm.kinto_plugin (capability "
    f"{CAPABILITY!r}): its If-Match checks are not atomic, so racing writers can "
    "overwrite each other's changes although every save succeeds; add the plugin to "
    "kinto.includes (see docs/deployment.md)"
)

#: clients already checked (warned or not): the check runs once per client
_checked: weakref.WeakSet[BaseClient] = weakref.WeakSet()


def warn_unless_atomic_op(client: BaseClient) -> Op[None]:
    """Warn (RuntimeWarning, once per client) when the server lacks the plugin.

    Reads ``server_facts()``, which the client caches (shared with its clones, also
    those with other credentials): one ``GET /`` for the first guarded save when no
    client of that family has read it yet, none after. A server that cannot be asked
    is not warned about (the save goes on).
    """
    if client in _checked:
        return
    try:
        info = yield from BaseClient.server_facts.op(client)
    except KintoException:
        return
    _checked.add(client)
    capabilities = info.get("capabilities") if isinstance(info, dict) else None
    if not isinstance(capabilities, dict) or CAPABILITY not in capabilities:
        warnings.warn(NOT_ATOMIC_WARNING.format(url=client.server_url), RuntimeWarning, 2)
