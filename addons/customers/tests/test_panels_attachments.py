"""The customer's 360° panels, loaded lazily through the core's ``/panels/<id>`` route (team,
attachments, history; the record found again in the reader's scope or pool), and attachments:
upload with CSRF, type and size checks and safe names, download for those who may read the
customer, delete for those who may edit it, audited, with bounded queries."""

import pytest
from sqlalchemy import func, select

from addons.customers import attachments, services
from addons.customers import pool as pools
from addons.customers.models import Attachment
from core.files import StoredFile
from core.models import AuditEntry

from .conftest import LISI, WANG, ZHANG, post
from .test_pages import count_queries, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def make(app, name, owner="zhang", **fields):
    with app.env.ctx() as ctx:
        return services.create_customer(ctx, name=name, owner_id=app.users[owner], **fields).id


def panel(app, panel_id, customer_id, status=200):
    return app.get(f"/panels/{panel_id}?model=customers_customer&id={customer_id}", status=status)


def upload(app, customer_id, name, data, **kwargs):
    return post(app, f"/customers/{customer_id}/attachments", [], upload_files=[("file", name, data)], **kwargs)


def attachment_ids(app, customer_id):
    page = panel(app, "customers.attachments", customer_id)
    return [int(li.attrs["data-attachment-id"]) for li in page.html.select("[data-attachment-id]")]


# -- lazy panels --------------------------------------------------------------------------------

def test_the_customer_page_renders_panel_frames_that_load_in_scope(app):
    mine = make(app, "阿里巴巴有限公司")
    theirs = make(app, "李四的客户", owner="lisi")
    login(app, ZHANG)
    page = app.get(f"/customers/{mine}")
    sections = page.html.select("[data-panel]")
    frames = {section.attrs["data-panel"]: section.select_one("[hx-get]") for section in sections}
    assert {"customers.team", "customers.attachments", "core.history"} <= set(frames)
    assert all(frame is not None and frame.attrs["hx-trigger"] == "revealed" for frame in frames.values())
    for panel_id, frame in frames.items():
        body = app.get(frame.attrs["hx-get"])
        assert "<html" not in body.text, panel_id
    team = panel(app, "customers.team", mine)
    assert team.html.select_one("[data-team-owner]").text.strip().startswith("张三")
    assert team.html.select_one("#team-members #team-empty") is not None  # no team members yet
    panel(app, "customers.team", theirs, status=404)  # lisi's customer: outside zhangsan's scope
    panel(app, "customers.nothing", mine, status=404)
    login(app, WANG)
    assert panel(app, "customers.team", theirs).status_int == 200  # the manager's department


def test_a_pool_customer_s_panels_load_for_those_who_see_the_pool(app):
    with app.env.ctx() as ctx:
        pool = pools.save_pool(ctx, name="华东公海")
        customer = services.create_customer(ctx, name="公海有限公司")
        customer.owner_id, customer.pool_id = None, pool.id
        customer_id = customer.id
    login(app, ZHANG)
    team = panel(app, "customers.team", customer_id)  # the addon's loader: in one of my pools
    assert team.html.select_one("[data-team-owner]") is not None
    assert "attachment-form" not in panel(app, "customers.attachments", customer_id).text  # read only


# -- attachments --------------------------------------------------------------------------------

def test_upload_list_download_and_delete_by_who_may(app):
    customer = make(app, "合同客户有限公司")
    login(app, ZHANG)
    page = upload(app, customer, "C:\\Users\\张三\\合同 2026.pdf", PDF).follow()
    assert page.html.select_one(".alert-success") is not None
    [attachment_id] = attachment_ids(app, customer)
    with app.env.ctx() as ctx:
        stored = ctx.dbsession.scalar(select(StoredFile).join(Attachment, Attachment.file_id == StoredFile.id))
        ctx.dbsession.expunge(stored)
        assert (stored.name, stored.content_type, stored.purpose, stored.size) == (
            "合同 2026.pdf", "application/pdf", "attachment", len(PDF))
    download = app.get(f"/customers/attachments/{attachment_id}")
    assert download.body == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    app.get(f"/files/{stored.id}", status=404)  # not through the uploader's own-files route
    login(app, LISI)  # another salesperson: not his customer
    app.get(f"/customers/attachments/{attachment_id}", status=404)
    post(app, f"/customers/attachments/{attachment_id}/delete", [], status=404)
    upload(app, customer, "x.pdf", PDF, status=404)
    login(app, WANG)  # the manager reads the department's customers
    assert app.get(f"/customers/attachments/{attachment_id}").body == PDF
    login(app, ZHANG)
    post(app, f"/customers/attachments/{attachment_id}/delete", []).follow()
    assert attachment_ids(app, customer) == []
    with app.env.ctx() as ctx:
        assert ctx.dbsession.scalar(select(func.count()).select_from(StoredFile)
                                    .where(StoredFile.purpose == "attachment")) == 0
        audited = ctx.dbsession.execute(select(AuditEntry.action, AuditEntry.record_id)
                                        .where(AuditEntry.model == "customers_attachment")
                                        .order_by(AuditEntry.id)).all()
        assert audited == [("create", str(attachment_id)), ("delete", str(attachment_id))]


def test_an_upload_needs_the_csrf_token(app):
    customer = make(app, "令牌客户有限公司")
    login(app, ZHANG)
    app.post(f"/customers/{customer}/attachments", upload_files=[("file", "a.pdf", PDF)], status=(400, 403))
    assert attachment_ids(app, customer) == []


@pytest.mark.parametrize(("name", "data"), [
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60),      # not an allowed type
    ("合同.pdf", b"MZ\x90\x00" + b"\x00" * 60),        # a renamed program: the content is no PDF
    ("page.html", b"<html><script>alert(1)</script>"),
    ("logo.png", PDF),                                 # a PDF is no PNG
    ("empty.pdf", b""),
])
def test_refused_uploads_are_told_and_nothing_is_written(app, name, data):
    customer = make(app, "拒绝客户有限公司")
    login(app, ZHANG)
    page = upload(app, customer, name, data).follow()
    assert page.html.select_one(".alert-danger") is not None
    assert attachment_ids(app, customer) == []


def test_the_size_limit_and_safe_names(app):
    customer = make(app, "大小客户有限公司")
    assert attachments.safe_name("../../etc/.passwd.txt") == "passwd.txt"
    assert attachments.safe_name("C:\\Users\\张三\\报价单.xlsx") == "报价单.xlsx"
    assert attachments.safe_name("") == "file"
    assert attachments.content_type_for("说明.txt", "你好".encode("gb18030")).startswith("text/plain")
    assert attachments.content_type_for("照片.PNG", PNG) == "image/png"
    assert attachments.max_bytes({}) == 20 * 1024 * 1024
    assert attachments.max_bytes({"customers.attachment_max_bytes": "1024"}) == 1024
    with app.env.ctx() as ctx:
        with pytest.raises(attachments.AttachmentTooLarge):
            attachments.attach(ctx, customer, "big.pdf", PDF + b"0" * 2048, limit=1024)
        assert ctx.dbsession.scalar(select(func.count()).select_from(Attachment)) == 0


def test_the_size_limit_setting_applies_to_the_upload_page(make_kehu_app, catalog, cli_env):
    from .conftest import _people

    app = make_kehu_app(catalog=catalog, install=["customers"], **{"customers.attachment_max_bytes": "64"})
    env = cli_env(catalog)
    app.env, app.users = env, _people(env)
    customer = make(app, "限额客户有限公司")
    login(app, ZHANG)
    assert upload(app, customer, "big.pdf", PDF + b"0" * 100).follow().html.select_one(".alert-danger") is not None
    assert upload(app, customer, "small.pdf", PDF).follow().html.select_one(".alert-success") is not None
    assert len(attachment_ids(app, customer)) == 1


def test_the_attachments_panel_runs_the_same_queries_for_1_or_10_files(app):
    customer = make(app, "查询客户有限公司")
    login(app, ZHANG)
    upload(app, customer, "1.pdf", PDF)
    url = f"/panels/customers.attachments?model=customers_customer&id={customer}"
    app.get(url)  # warm caches that are not per page
    few = count_queries(app, url)
    for n in range(9):
        upload(app, customer, f"{n}.png", PNG)
    many = count_queries(app, url)
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 8, "\n".join(many)  # incl. the team memberships (core.access.members)
    assert len(attachment_ids(app, customer)) == 10
