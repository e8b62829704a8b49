"""Files attached to a customer (附件): contracts, business licences, visit photos.

The bytes are a core ``StoredFile`` (purpose "attachment", kept until deleted), linked to the
customer by an ``Attachment`` row; the customer's rules guard them — who may read the customer
(its scope, or its pool for a 公海 customer) may download, who may edit it may upload and delete.
An upload is refused unless its extension is one of ``ALLOWED`` *and* its first bytes are what
that extension promises (a renamed ``.exe`` is not a PDF); the size limit is the setting
``customers.attachment_max_bytes`` (20 MiB by default). Downloads are ``attachment`` responses
with ``nosniff``, so no upload is ever rendered by the browser as a page.
"""

from __future__ import annotations

import datetime as dt
import ntpath
import posixpath
from collections.abc import Callable
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import select
from sqlalchemy.orm import undefer

from core.access.exceptions import RecordNotFound
from core.access.scopes import count_in_scope
from core.context import Ctx
from core.contributions import RecordChange
from core.exceptions import KehuError
from core.files import StoredFile, file_response, store_file
from core.i18n import _
from core.web.forms import flash_done

from . import pool, services
from .models import Attachment, Customer

MAX_BYTES_SETTING = "customers.attachment_max_bytes"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Attachments stay until someone deletes them (the core's files expire; these practically never).
KEEP = dt.timedelta(days=365 * 100)

_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _text(data: bytes) -> bool:
    """Plain text: no NUL byte, and UTF-8 or GB18030 (what Chinese Windows writes)."""
    if b"\x00" in data[:65536]:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            data[:65536].decode(encoding)
        except UnicodeDecodeError as error:
            if error.start >= 65536 - 4:  # a character cut by the sample's end
                return True
            continue
        return True
    return False


#: extension → (content type served, check of the first bytes)
ALLOWED: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "pdf": ("application/pdf", lambda d: d.startswith(b"%PDF-")),
    "png": ("image/png", lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": ("image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", lambda d: d.startswith(b"\xff\xd8\xff")),
    "gif": ("image/gif", lambda d: d[:6] in (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", lambda d: d.startswith(_ZIP)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", lambda d: d.startswith(_ZIP)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",
             lambda d: d.startswith(_ZIP)),
    "doc": ("application/msword", lambda d: d.startswith(_OLE)),
    "xls": ("application/vnd.ms-excel", lambda d: d.startswith(_OLE)),
    "ppt": ("application/vnd.ms-powerpoint", lambda d: d.startswith(_OLE)),
    "zip": ("application/zip", lambda d: d.startswith(_ZIP)),
    "txt": ("text/plain; charset=utf-8", _text),
    "csv": ("text/csv; charset=utf-8", _text),
}


class AttachmentTooLarge(KehuError):
    http_status = 413
    message = _("The file is larger than ${limit} MiB.")


class AttachmentTypeRefused(KehuError):
    http_status = 415
    message = _("Files like “${name}” cannot be attached. Allowed: ${allowed}.")


class AttachmentEmpty(KehuError):
    message = _("Choose a file to attach.")


def max_bytes(settings: Any) -> int:
    return int((settings or {}).get(MAX_BYTES_SETTING, DEFAULT_MAX_BYTES))


def safe_name(name: str) -> str:
    """The file's own name, without the folders some browsers send (``C:\\Users\\…\\合同.pdf``) or
    a leading dot; the core's ``store_file`` drops control characters and long tails."""
    base = ntpath.basename(posixpath.basename(name or "")).strip().lstrip(".")
    return base or "file"


def content_type_for(name: str, data: bytes) -> str:
    """The type to serve ``data`` as, when its extension is allowed and its content agrees;
    AttachmentTypeRefused otherwise."""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    allowed = ALLOWED.get(extension)
    if allowed is None or not allowed[1](data):
        raise AttachmentTypeRefused(name=name, allowed=", ".join(sorted(ALLOWED)))
    return allowed[0]


def attach(ctx: Ctx, customer_id: int, name: str, data: bytes, *, limit: int = DEFAULT_MAX_BYTES) -> Attachment:
    """Attach a file to a customer the user may edit; audited (a ``customers_attachment`` record change)."""
    customer = services.get_customer(ctx, customer_id, "write")
    if not data:
        raise AttachmentEmpty()
    if len(data) > limit:
        raise AttachmentTooLarge(limit=f"{limit / 1024 / 1024:g}")
    name = safe_name(name)
    content_type = content_type_for(name, data)
    uploader = ctx.user.id if ctx.user is not None else customer.owner_id  # the system attaches for the owner
    if uploader is None:
        raise RecordNotFound()
    stored = store_file(ctx, uploader, name, content_type, data, "attachment", keep=KEEP)
    attachment = Attachment(customer_id=customer.id, file_id=stored.id)
    ctx.dbsession.add(attachment)
    ctx.dbsession.flush()
    _record(ctx, "created", attachment, {"customer_id": (None, customer.id), "name": (None, stored.name),
                                         "size": (None, stored.size)})
    return attachment


def list_attachments(ctx: Ctx, customer_id: int) -> list[tuple[Attachment, StoredFile]]:
    """A customer's attachments, newest first, without their bytes (the caller has the customer)."""
    rows = ctx.dbsession.execute(select(Attachment, StoredFile).join(StoredFile, StoredFile.id == Attachment.file_id)
                                 .where(Attachment.customer_id == customer_id)
                                 .order_by(Attachment.id.desc()).limit(200))
    return [(row[0], row[1]) for row in rows]


def get_attachment(ctx: Ctx, attachment_id: int, action: str = "read") -> tuple[Attachment, Customer]:
    """The attachment and its customer, when the user may ``action`` the customer (read: as its
    page, pools included); RecordNotFound (404) otherwise."""
    attachment = ctx.dbsession.get(Attachment, attachment_id)
    if attachment is None:
        raise RecordNotFound()
    customer = (pool.get_customer(ctx, attachment.customer_id) if action == "read"
                else services.get_customer(ctx, attachment.customer_id, action))
    return attachment, customer


def read_attachment(ctx: Ctx, attachment_id: int) -> StoredFile:
    attachment, _customer = get_attachment(ctx, attachment_id)
    stored = ctx.dbsession.scalar(select(StoredFile).where(StoredFile.id == attachment.file_id)
                                  .options(undefer(StoredFile.data)))
    if stored is None:
        raise RecordNotFound()
    return stored


def delete_attachment(ctx: Ctx, attachment_id: int) -> int:
    """Delete an attachment of a customer the user may edit, with its bytes; audited. Returns the
    customer's id."""
    attachment, customer = get_attachment(ctx, attachment_id, "write")
    name = ctx.dbsession.scalar(select(StoredFile.name).where(StoredFile.id == attachment.file_id))
    stored = ctx.dbsession.get(StoredFile, attachment.file_id)
    ctx.dbsession.delete(attachment)
    if stored is not None:
        ctx.dbsession.delete(stored)
    ctx.dbsession.flush()
    _record(ctx, "deleted", attachment, {"customer_id": (customer.id, None), "name": (name, None)})
    return customer.id


def may_attach(ctx: Ctx, customer_id: int) -> bool:
    """Whether the user may add and delete attachments of this customer (edits it)."""
    if not ctx.access.can("customers.customer:write"):
        return False
    return count_in_scope(ctx, Customer, "write", Customer.id == customer_id) > 0


def _record(ctx: Ctx, action: str, attachment: Attachment, changes: dict[str, tuple[Any, Any]]) -> None:
    ctx.hooks.kehu_record_changed(ctx=ctx, change=RecordChange(
        action, Attachment.__tablename__, attachment.id, changes, user_id=ctx.user.id if ctx.user else None,
        at=ctx.now))


# ---------------------------------------------------------------- pages


def _back(request: Request, customer_id: int) -> HTTPSeeOther:
    return HTTPSeeOther(request.route_path("customers.detail", id=customer_id) + "#panel-customers-attachments")


def upload_view(request: Request) -> Response:
    """POST ``/customers/<id>/attachments`` (multipart, CSRF-checked like every POST): back to the
    customer page with the result flashed."""
    customer_id = int(request.matchdict["id"])
    upload = request.POST.get("file")
    name = getattr(upload, "filename", "") or ""
    limit = max_bytes(request.registry.settings)
    data = upload.file.read(limit + 1) if hasattr(upload, "file") else b""
    try:
        with request.dbsession.begin_nested():
            attach(request.ctx, customer_id, name, data, limit=limit)
    except (AttachmentTooLarge, AttachmentTypeRefused, AttachmentEmpty) as refused:
        request.session.flash(request.localizer.translate(refused.translation_string), "danger")
        return _back(request, customer_id)
    flash_done(request, _("File attached."))
    return _back(request, customer_id)


def download_view(request: Request) -> Response:
    stored = read_attachment(request.ctx, int(request.matchdict["id"]))
    return file_response(stored.data, stored.content_type, stored.name)


def delete_view(request: Request) -> Response:
    customer_id = delete_attachment(request.ctx, int(request.matchdict["id"]))
    flash_done(request, _("Attachment deleted."))
    return _back(request, customer_id)
