"""The object mapper: attrs models of Kinto records, lazy query sets, safe saves."""

from kintorm.orm.attachments import Attachment, AttachmentError, AttachmentHashMismatch
from kintorm.orm.bulk import BulkError, BulkResult, Outcome
from kintorm.orm.connection import connect, disconnect, get_default_client
from kintorm.orm.convert import converter
from kintorm.orm.cursor import InvalidCursor, InvalidPageSize, PageError, set_cursor_key
from kintorm.orm.exceptions import (
    ConflictError,
    DeferredFieldError,
    DoesNotExist,
    FieldError,
    InvalidRecord,
    MultipleObjectsReturned,
    ORMError,
    PermissionDenied,
    UnsupportedQuery,
    ValidationError,
)
from kintorm.orm.hooks import (
    AfterHookError,
    HookContext,
    after_create,
    after_delete,
    after_save,
    before_create,
    before_delete,
    before_save,
)
from kintorm.orm.manager import Manager
from kintorm.orm.model import Record
from kintorm.orm.query import Change, CompiledRequest, QuerySet, compile_queries, compile_query
from kintorm.orm.query.pages import CursorPage
from kintorm.orm.scope import Scope, using
from kintorm.orm.state import DEFERRED, Permissions

__all__ = [
    "DEFERRED",
    "AfterHookError",
    "Attachment",
    "AttachmentError",
    "AttachmentHashMismatch",
    "BulkError",
    "BulkResult",
    "Change",
    "CompiledRequest",
    "ConflictError",
    "CursorPage",
    "DeferredFieldError",
    "DoesNotExist",
    "FieldError",
    "HookContext",
    "InvalidCursor",
    "InvalidPageSize",
    "InvalidRecord",
    "Manager",
    "MultipleObjectsReturned",
    "ORMError",
    "Outcome",
    "PageError",
    "PermissionDenied",
    "Permissions",
    "QuerySet",
    "Record",
    "Scope",
    "UnsupportedQuery",
    "ValidationError",
    "after_create",
    "after_delete",
    "after_save",
    "before_create",
    "before_delete",
    "before_save",
    "compile_queries",
    "compile_query",
    "connect",
    "converter",
    "disconnect",
    "get_default_client",
    "set_cursor_key",
    "using",
]
