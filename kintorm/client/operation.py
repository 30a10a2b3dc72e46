"""How one definition of an operation becomes a sync method and an async method.

An operation is written once, as a method returning an :data:`Op` generator.
Decorated with :class:`operation`, it is a descriptor: on a sync client it
runs the generator to completion and returns the value; on an async client
it returns a coroutine doing the same with awaits. :class:`stream` does the
same for generators that emit pages (a generator or an async generator).
"""

from __future__ import annotations

import functools
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


class operation(Generic[P, T]):
    """Turn ``def name(self, ...) -> Op[T]`` into a sync or async method."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Op[T]]) -> None:
        self.fn = fn
        self.__doc__, self.__name__ = fn.__doc__, fn.__name__

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
        fn, run = self.fn, obj._run

        @functools.wraps(fn)
        def bound(*args: Any, **kwargs: Any) -> Any:
            return run(fn(obj, *args, **kwargs))

        return bound


class stream(Generic[P]):
    """Turn ``def name(self, ...) -> Stream`` into a generator or an async generator."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Stream]) -> None:
        self.fn = fn
        self.__doc__, self.__name__ = fn.__doc__, fn.__name__

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
        fn, run = self.fn, obj._stream

        @functools.wraps(fn)
        def bound(*args: Any, **kwargs: Any) -> Any:
            return run(fn(obj, *args, **kwargs))

        return bound
