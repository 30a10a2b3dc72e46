"""The Todo model of the example API, and the hook that stamps who wrote it."""

from __future__ import annotations

import datetime
from typing import Any

import attrs

from kintorm import Attachment, HookContext, Record, before_save


class NotAuthenticated(Exception):
    """A write by a request that Kinto does not know the user of (no credentials, or
    wrong ones: Kinto takes a wrong password as no credentials)."""


def text(max_length: int) -> Any:
    """An attrs validator: 1 to ``max_length`` characters, no NUL (Kinto on PostgreSQL
    cannot store one). Its messages start with the field's name in quotes, which is
    how ``from_dict()`` tells which field an error of the class is about."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
        if not 1 <= len(value) <= max_length:
            raise ValueError(f"'{attribute.name}' must be 1 to {max_length} characters long")
        if "\x00" in value:
            raise ValueError(f"'{attribute.name}' cannot hold a NUL character")

    return check


class Todo(Record, collection="todos"):  # in the bucket of the app's client
    title: str = attrs.field(validator=text(200))
    done: bool = False
    tags: list[str] = attrs.field(factory=list, validator=attrs.validators.deep_iterable(text(50)))
    due: datetime.date | None = None
    #: set by the hook below, never by a request's body
    created_by: str | None = None
    updated_by: str | None = None
    #: set by uploading a file (attach()), never by a request's body
    photo: Attachment | None = None

    @before_save
    async def stamp(self, ctx: HookContext) -> None:
        """The user Kinto authenticates the write's client as (the request's own, in
        this app) goes into ``created_by`` and ``updated_by``. Without one, the save is
        refused before anything is sent. ``server_info()`` is read once per client:
        once per request here."""
        user = (await ctx.client.server_info()).get("user")
        if user is None:
            raise NotAuthenticated("writing a todo needs a user's credentials")
        if ctx.created:
            self.created_by = user["id"]
        self.updated_by = user["id"]
