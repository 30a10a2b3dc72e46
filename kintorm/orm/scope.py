"""Who is asking: the client a model call uses, and ``kintorm.using(client)``.

A web app that acts as its user (forwarding the user's token, so that Kinto's
permissions apply) gives each request a client of its own and runs the request
inside ``with kintorm.using(client):`` (or a function decorated with
``@kintorm.using(client)``). The scopes are a stack held in a context variable:
each thread and each asyncio task sees its own (a task starts with a copy of its
creator's), the innermost scope wins, and leaving one restores the one around it.

Which client a call uses (:func:`resolve`), first match:

1. a query set's own client, ``Model.objects.using(client)`` (written at the call);
2. the innermost scope, ``with kintorm.using(client):`` (``using(None)`` hides the
   scopes around it: inside it, calls go on as outside any scope);
3. for a record: the client of the ``using()`` it was loaded, created or saved
   through (records met through a scope, ``bind()`` or ``connect()`` remember none);
4. the model's client, ``Model.bind(client)``;
5. the default client, ``kintorm.connect(...)``.

The scope comes before what a record remembers: a record loaded in one user's
request and saved in another's is saved with the second user's client, never the
first's. And a scope's client is never remembered, so after the request it served
it is not used again for the records that request loaded.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from kintorm.client.base import BaseClient
from kintorm.orm.connection import get_default_client
from kintorm.orm.state import state

if TYPE_CHECKING:
    from kintorm.orm.state import RecordLike

__all__ = ["Scope", "resolve", "scoped", "using"]

F = TypeVar("F", bound=Callable[..., Any])

#: the clients of the scopes entered, innermost last (None: a scope hiding the others)
_SCOPES: ContextVar[tuple[BaseClient | None, ...]] = ContextVar("kintorm_scopes", default=())


def scoped() -> BaseClient | None:
    """The client of the innermost ``kintorm.using()`` scope, None outside any."""
    scopes = _SCOPES.get()
    return scopes[-1] if scopes else None


class Scope:
    """What ``kintorm.using(client)`` returns: a context manager, and a decorator of
    functions and coroutine functions, that makes ``client`` the one every model call
    inside uses (see :func:`using`)."""

    __slots__ = ("client",)

    def __init__(self, client: BaseClient | None) -> None:
        if client is not None and not isinstance(client, BaseClient):
            raise TypeError(
                f"kintorm.using() takes a Client or an AsyncClient (or None), "
                f"not {type(client).__name__}"
            )
        self.client = client

    def __repr__(self) -> str:
        return f"<kintorm.using({self.client!r})>"

    def __enter__(self) -> BaseClient | None:
        _SCOPES.set((*_SCOPES.get(), self.client))
        return self.client

    def __exit__(self, *exc: object) -> None:
        scopes = _SCOPES.get()
        if not scopes or scopes[-1] is not self.client:
            raise RuntimeError(
                "kintorm.using() scopes left out of order: leave the innermost first"
            )
        _SCOPES.set(scopes[:-1])

    def __call__(self, fn: F) -> F:
        """Run each call of ``fn`` (a function or a coroutine function) in this scope."""
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(
                f"@kintorm.using() cannot decorate the generator {fn.__qualname__}: a "
                "scope entered around a generator would leak to its caller between "
                "items; enter 'with kintorm.using(client):' inside it, or decorate the "
                "function that iterates it"
            )
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def in_scope_async(*args: Any, **kwargs: Any) -> Any:
                with Scope(self.client):
                    return await fn(*args, **kwargs)

            return in_scope_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def in_scope(*args: Any, **kwargs: Any) -> Any:
            with Scope(self.client):
                return fn(*args, **kwargs)

        return in_scope  # type: ignore[return-value]


def using(client: BaseClient | None) -> Scope:
    """Make ``client`` the client of every model call inside, in this thread or
    asyncio task only::

        with kintorm.using(client.clone(auth=request_token)):
            todos = list(Todo.objects.filter(done=False))   # as that user

        @kintorm.using(admin)
        def nightly_cleanup(): ...                            # each call as admin

    Also a decorator of ``async def`` functions. Scopes nest (the innermost wins);
    inside ``using(None)`` calls go on as outside any scope.
    A query set's own ``using(client)`` still comes first; a record's remembered
    client comes after the scope. The order is in docs/webapps.md.
    """
    return Scope(client)


def resolve(model: type[RecordLike], instance: RecordLike | None = None) -> BaseClient:
    """The client a call on ``model`` (or on the record ``instance``) uses when no
    query set names one: the innermost scope, the client the record remembers, the
    model's bound one, the default one (see the module docstring)."""
    found = scoped()
    if found is None and instance is not None:
        found = state(instance).client
    return found or model._meta.client or get_default_client()
