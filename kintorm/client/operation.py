"""How one definition of an operation becomes a sync method and an async method.

An operation is written once, as a method returning an :data:`Op` generator.
Decorated with :class:`operation`, it is a descriptor: on a sync client it
runs the generator to completion and returns the value; on an async client
it returns a coroutine doing the same with awaits (both through the client's
``run``, the trampoline of its mode). :class:`stream` does the same for
generators that emit pages (a generator or an async generator, through
``run_stream``). ``Class.method.op(client, ...)`` gives the raw generator, to
compose an operation inside another.

Both keep the definition's name, docstring and signature: ``help(Client.get_records)``
and ``inspect.signature(client.get_records)`` show the keyword arguments, the
bound form without ``self`` and with the result the caller gets (``T`` on a sync
client, a coroutine of ``T`` on an async one) instead of the generator type.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from kintorm.client.effects import Effect, Op, Stream
from kintorm.client.trampoline import run_async, run_sync, stream_async, stream_sync

P = ParamSpec("P")
T = TypeVar("T")

__all__ = ["AsyncDriver", "Stream", "SyncDriver", "operation", "stream"]


class SyncDriver:
    """Base of clients whose operations return values: :meth:`run` and
    :meth:`run_stream` are the sync trampoline over the driver's ``_perform``."""

    def _perform(self, effect: Effect) -> Any:
        """Perform one effect (a request, a sleep, file I/O) and give its outcome."""
        raise NotImplementedError

    def run(self, op: Op[T]) -> T:
        """Run the operation ``op`` (a generator of effects, as ``Client.send.op(client,
        request)`` gives) on this client and return its value; a fan-out runs in turn."""
        return run_sync(self._perform, op)

    def run_stream(self, stream: Stream) -> Iterator[Any]:
        """Run the page stream ``stream`` on this client: an iterator of its pages."""
        return stream_sync(self._perform, stream)


class AsyncDriver:
    """Base of clients whose operations return coroutines: :meth:`run` and
    :meth:`run_stream` are the async trampoline over the driver's ``_perform``.

    A driver defines ``_perform``; one written as a loop over a whole operation
    (``_run``, as a test's fake driver) gets ``_perform`` from it."""

    async def _perform(self, effect: Effect) -> Any:
        """Perform one effect and give its outcome (through ``_run`` by default)."""
        return await self._run(_one(effect))

    def _run(self, op: Op[T]) -> Coroutine[Any, Any, T]:
        return self.run(op)

    def run(self, op: Op[T]) -> Coroutine[Any, Any, T]:
        """A coroutine running the operation ``op`` on this client to its value; the
        operations of a fan-out run concurrently (at most its ``limit``, fewer while
        the server pushes back)."""
        return run_async(self._perform, op)

    def run_stream(self, stream: Stream) -> AsyncIterator[Any]:
        """Run the page stream ``stream`` on this client: an async iterator of its pages."""
        return stream_async(self._perform, stream)


def _one(effect: Effect) -> Op[Any]:
    """The operation that yields ``effect`` and returns its outcome."""
    return (yield effect)


# The result each kind of client gives for a definition annotated ``Op[T]`` / ``Stream``
# (annotations are strings: the client modules use ``from __future__ import annotations``).
_RESULTS: dict[tuple[str, bool], str] = {
    ("Op", False): "{}",
    ("Op", True): "Coroutine[Any, Any, {}]",
    ("Stream", False): "Iterator[Any]",
    ("Stream", True): "AsyncIterator[Any]",
}


def _bound_signature(fn: Callable[..., Any], is_async: bool) -> inspect.Signature:
    """``fn``'s signature without ``self``, returning what the driver's caller gets."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())[1:]
    result: Any = inspect.Signature.empty
    ret = sig.return_annotation
    if isinstance(ret, str):
        kind, _, inner = ret.partition("[")
        template = _RESULTS.get((kind, is_async))
        if template is not None:
            result = template.format(inner[:-1])
    return sig.replace(parameters=params, return_annotation=result)


class _Described:
    """Name, docstring, ``__wrapped__`` and signatures of the definition ``fn``."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn)  # __name__, __doc__, __wrapped__, ...
        self._signatures: dict[bool, inspect.Signature] = {}

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        """``Client.get_record(client, id=...)``, as with a plain method."""
        return self.__get__(obj, type(obj))(*args, **kwargs)

    def __get__(self, obj: Any, owner: type) -> Any:
        raise NotImplementedError

    def _bind(self, obj: Any, run: Callable[[Any], Any]) -> Callable[..., Any]:
        fn = self.fn

        @functools.wraps(fn)
        def bound(*args: Any, **kwargs: Any) -> Any:
            return run(fn(obj, *args, **kwargs))

        is_async = isinstance(obj, AsyncDriver)
        sig = self._signatures.get(is_async)
        if sig is None:
            sig = self._signatures[is_async] = _bound_signature(fn, is_async)
        bound.__signature__ = sig  # type: ignore[attr-defined]
        return bound


class operation(_Described, Generic[P, T]):
    """Turn ``def name(self, ...) -> Op[T]`` into a sync or async method."""

    fn: Callable[Concatenate[Any, P], Op[T]]

    def __init__(self, fn: Callable[Concatenate[Any, P], Op[T]]) -> None:
        super().__init__(fn)

    def op(self, obj: Any, *args: P.args, **kwargs: P.kwargs) -> Op[T]:
        """The raw generator, for composing operations inside other operations
        (``yield from Client.send.op(client, request)``)."""
        return self.fn(obj, *args, **kwargs)

    @overload
    def __get__(self, obj: None, owner: type) -> operation[P, T]: ...
    @overload
    def __get__(self, obj: SyncDriver, owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: AsyncDriver, owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> Callable[P, Any]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        return self._bind(obj, obj.run)


class stream(_Described, Generic[P]):
    """Turn ``def name(self, ...) -> Stream`` into a generator or an async generator."""

    fn: Callable[Concatenate[Any, P], Stream]

    def __init__(self, fn: Callable[Concatenate[Any, P], Stream]) -> None:
        super().__init__(fn)

    def op(self, obj: Any, *args: P.args, **kwargs: P.kwargs) -> Stream:
        """The raw page stream, for composing it inside other operations."""
        return self.fn(obj, *args, **kwargs)

    @overload
    def __get__(self, obj: None, owner: type) -> stream[P]: ...
    @overload
    def __get__(self, obj: SyncDriver, owner: type) -> Callable[P, Iterator[Any]]: ...
    @overload
    def __get__(self, obj: AsyncDriver, owner: type) -> Callable[P, AsyncIterator[Any]]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> Callable[P, Any]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        return self._bind(obj, obj.run_stream)
