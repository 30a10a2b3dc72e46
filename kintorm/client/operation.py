"""How one definition of an operation becomes a sync method and an async method.

An operation is written once, as a method returning an :data:`Op` generator.
Decorated with :class:`operation`, it is a descriptor: on a sync client it
runs the generator to completion and returns the value; on an async client
it returns a coroutine doing the same with awaits. :class:`stream` does the
same for generators that emit pages (a generator or an async generator).

Both keep the definition's name, docstring and signature: ``help(Client.get_records)``
and ``inspect.signature(client.get_records)`` show the keyword arguments, the
bound form without ``self`` and with the result the caller gets (``T`` on a sync
client, a coroutine of ``T`` on an async one) instead of the generator type.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from kintorm.client.protocol import Emit, Op, Request, Sleep

P = ParamSpec("P")
T = TypeVar("T")

#: A streaming operation: yields effects and ``Emit[T]`` values.
Stream = Generator[Request | Sleep | Emit, Any, None]


class SyncDriver:
    """Marker base of clients whose operations return values."""

    def _run(self, op: Op[T]) -> T:
        raise NotImplementedError

    def _stream(self, gen: Stream) -> Iterator[Any]:
        raise NotImplementedError


class AsyncDriver:
    """Marker base of clients whose operations return coroutines."""

    def _run(self, op: Op[T]) -> Coroutine[Any, Any, T]:
        raise NotImplementedError

    def _stream(self, gen: Stream) -> AsyncIterator[Any]:
        raise NotImplementedError


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
        """The raw generator, for composing operations inside other operations."""
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
        return self._bind(obj, obj._run)


class stream(_Described, Generic[P]):
    """Turn ``def name(self, ...) -> Stream`` into a generator or an async generator."""

    fn: Callable[Concatenate[Any, P], Stream]

    def __init__(self, fn: Callable[Concatenate[Any, P], Stream]) -> None:
        super().__init__(fn)

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
        return self._bind(obj, obj._stream)
