"""Checked by mypy --strict from tests/test_typing.py: each line marked `# E:` must be
reported, proving that the checks of ids.py can fail."""

from __future__ import annotations

from kintorm import HookContext, Record, before_save


class Todo(Record, collection="todos"):
    title: str

    @before_save  # E: Value of type variable "F" of "__call__" of "Event" cannot be
    def stamp(self) -> None:
        pass


@before_save.connect(Todo)  # E: Argument 1 has incompatible type
def wrong(todo: int, ctx: HookContext) -> None:
    pass


def misuse(todo: Todo) -> int:
    print(todo.titel)  # E: "Todo" has no attribute "titel"
    todo.pk = "x"  # E: Property "pk" defined in "Record" is read-only
    length: int = todo.id  # E: Incompatible types in assignment
    todo.attach(12, filename="x.txt")  # E: Argument 1 has incompatible type "int"
    return length
