"""A mapper method and its awaitable twin, written once.

A method that talks to the server is written as its *action*: ``def name(self,
client, ...) -> Action[T]`` (see :mod:`kintorm.orm.drive`). :meth:`Runner.method`
makes it the sync method ``name(...) -> T`` and :func:`twin` the awaitable
``aname(...) -> T``, which hand the same action to ``run_sync`` or ``run_async``
on the instance's client::

    class QuerySet:
        @RUNNER.method
        def count(self, client: BaseClient) -> Op[int]:
            \"\"\"The number of matching records...\"\"\"
            ...

        acount = twin(count)

Both show the definition's parameters without ``client`` (``inspect.signature``,
``help()``), return what the action returns, and carry its docstring (the twin's
says it is the awaitable twin). Type checkers see ``qs.count() -> int`` and
``qs.acount() -> Coroutine[..., int]``. A definition with ``**kwargs`` marks
``self`` and ``client`` positional-only (``def create(self, client, /, **fields)``).
Inside other actions, ``Class.name.action(obj, client, ...)`` is the raw action.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from kintorm.client.base import BaseClient
from kintorm.orm.drive import Action, run_async, run_sync

__all__ = ["Method", "Runner", "Twin", "twin"]

S = TypeVar("S")
P = ParamSpec("P")
T = TypeVar("T")

#: the wrappers of an action's return annotation, dropped in the method's signature
_ACTION_TYPES = ("Action[", "Op[")


def _result(annotation: Any) -> Any:
    """``Op[int]`` / ``Action[int]`` (a string: ``from __future__ import annotations``)
    -> ``int``, what the caller gets."""
    if isinstance(annotation, str):
        for prefix in _ACTION_TYPES:
            if annotation.startswith(prefix) and annotation.endswith("]"):
                return annotation[len(prefix) : -1]
    return inspect.Signature.empty


def _signatures(fn: Callable[..., Any]) -> tuple[inspect.Signature, inspect.Signature]:
    """(unbound, bound) signatures of the method defined by ``fn``: without ``client``,
    returning what its action returns."""
    sig = inspect.signature(fn)
    this, _client, *rest = sig.parameters.values()
    this = this.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
    result = _result(sig.return_annotation)
    return (
        sig.replace(parameters=[this, *rest], return_annotation=result),
        sig.replace(parameters=rest, return_annotation=result),
    )


class Runner:
    """How the instances of one class run their actions: ``client(obj)`` is the client
    an instance runs on, ``noun(obj)`` how the hints of a wrong-client TypeError call
    it (``"qs"``: "use await qs.acount()")."""

    def __init__(self, client: Callable[[Any], BaseClient], noun: Callable[[Any], str]) -> None:
        self.client = client
        self.noun = noun

    def method(self, fn: Callable[Concatenate[S, BaseClient, P], Action[T]]) -> Method[S, P, T]:
        """Decorator: the action ``fn`` as a sync method (see the module docstring)."""
        return Method(self, fn)


class Method(Generic[S, P, T]):
    """The sync method of an action: runs it with ``run_sync`` on the instance's client."""

    __name__: str
    __qualname__: str

    def __init__(
        self, runner: Runner, fn: Callable[Concatenate[S, BaseClient, P], Action[T]]
    ) -> None:
        functools.update_wrapper(self, fn)
        self.runner = runner
        self.fn = fn
        self.__signature__, self.bound_signature = _signatures(fn)

    def action(self, obj: S, client: BaseClient, /, *args: P.args, **kwargs: P.kwargs) -> Action[T]:
        """The raw action, for composing it inside other actions."""
        return self.fn(obj, client, *args, **kwargs)

    def run(self, obj: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the action on ``obj``'s (synchronous) client."""
        client = self.runner.client(obj)
        name, noun = self.__name__, self.runner.noun(obj)
        action = self.fn(obj, client, *args, **kwargs)
        return run_sync(client, action, f"{name}()", f"await {noun}.a{name}()")

    async def arun(self, obj: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Await the action on ``obj``'s (asynchronous) client."""
        client = self.runner.client(obj)
        name, noun = self.__name__, self.runner.noun(obj)
        action = self.fn(obj, client, *args, **kwargs)
        return await run_async(client, action, f"a{name}()", f"{noun}.{name}()")

    def __call__(self, obj: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``QuerySet.count(qs)``, as with a plain method."""
        return self.run(obj, *args, **kwargs)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: S, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: S | None, owner: type[Any]) -> Any:
        if obj is None:
            return self
        run = self.run

        @functools.wraps(self.fn)
        def bound(*args: P.args, **kwargs: P.kwargs) -> T:
            return run(obj, *args, **kwargs)

        bound.__signature__ = self.bound_signature  # type: ignore[attr-defined]
        return bound


class Twin(Generic[S, P, T]):
    """The awaitable twin of a :class:`Method`: the same action, awaited."""

    def __init__(self, method: Method[S, P, T]) -> None:
        self.method = method
        self.__name__ = "a" + method.__name__
        owner, _, _ = method.__qualname__.rpartition(".")
        self.__qualname__ = f"{owner}.{self.__name__}" if owner else self.__name__
        self.__module__ = method.__module__
        self.__doc__ = (
            f"The awaitable twin of :meth:`{method.__name__}`: the same arguments and "
            f"result, awaited on an AsyncClient.\n\n{inspect.cleandoc(method.__doc__ or '')}"
        ).rstrip()
        self.__signature__ = method.__signature__

    def __call__(self, obj: S, /, *args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, T]:
        """``await QuerySet.acount(qs)``, as with a plain method."""
        return self.method.arun(obj, *args, **kwargs)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, obj: S, owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, obj: S | None, owner: type[Any]) -> Any:
        if obj is None:
            return self
        arun = self.method.arun

        async def bound(*args: P.args, **kwargs: P.kwargs) -> T:
            return await arun(obj, *args, **kwargs)

        bound.__name__, bound.__qualname__ = self.__name__, self.__qualname__
        bound.__module__, bound.__doc__ = self.__module__, self.__doc__
        bound.__signature__ = self.method.bound_signature  # type: ignore[attr-defined]
        return bound


def twin(method: Method[S, P, T]) -> Twin[S, P, T]:
    """The awaitable twin of ``method``: ``acount = twin(count)`` in the class body."""
    return Twin(method)
