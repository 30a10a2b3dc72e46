"""Attachments as model fields (kinto-attachment): ``photo: Attachment | None = None``.

- value.py      Attachment (the record's ``attachment`` object) and the errors
- field.py      the field's declaration, checked at class definition, and its view
- transfer.py   attach / detach / download as operations
- methods.py    Record's attach(), detach(), download() and their awaitable twins
"""

from kintorm.orm.attachments.value import (
    ATTACHMENT_KEY,
    Attachment,
    AttachmentError,
    AttachmentHashMismatch,
)

__all__ = ["ATTACHMENT_KEY", "Attachment", "AttachmentError", "AttachmentHashMismatch"]
