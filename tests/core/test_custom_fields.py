"""Custom fields (自定义字段) on the fixture addon's notes: admins define text, number, date and
choice fields; values are checked (required, choices, numbers, dates) all or nothing, audited,
read in one query and filtered by an indexed lookup; the admin page; the schema matches."""

import datetime as dt
import decimal
import re

import pytest
from sqlalchemy import func, select

from core.access.exceptions import PermissionDenied
from core.customfields import services
from core.customfields.exceptions import (
    CustomValueInvalid,
    CustomValueRequired,
    FieldChoicesInvalid,
    FieldKindFixed,
    FieldLabelTaken,
    FieldModelUnknown,
)
from core.customfields.models import CustomValue
from core.models import AuditEntry, User
from core.org.services import root_department
from core.users.services import create_user
from tests.fixtures.addons.scoped import services as notes
from tests.fixtures.addons.scoped.models import ScopedNote


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("tests.fixtures.addons.scoped")


@pytest.fixture
def env(kehu_db, cli_env, catalog):
    from core.addons.installer import install_addons

    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["scoped"])
        create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=root_department(ctx).id)
    return env


def define(env, **fields):
    with env.ctx() as ctx:
        return services.save_field(ctx, "scoped_note", **fields).name


def test_an_admin_defines_fields_and_a_salesperson_may_not(env):
    assert define(env, label="预算", kind="number").startswith("cf_")
    with env.ctx() as ctx:
        zhang = ctx.as_user(ctx.dbsession.scalar(select(User).where(User.username == "zhangsan")))
        with pytest.raises(PermissionDenied):
            services.save_field(zhang, "scoped_note", label="行业", kind="text")
        with pytest.raises(FieldLabelTaken):
            services.save_field(ctx, "scoped_note", label="预算", kind="text")
        with pytest.raises(FieldChoicesInvalid):
            services.save_field(ctx, "scoped_note", label="等级", kind="select", choices="\n \n")
        with pytest.raises(FieldModelUnknown):
            services.save_field(ctx, "core_user", label="x", kind="text")
        assert [f.label for f in services.fields_for(ctx, ScopedNote)] == ["预算"]
        assert ctx.dbsession.scalar(select(func.count()).select_from(AuditEntry)
                                    .where(AuditEntry.model == "core_custom_field")) == 1


def test_values_are_checked_all_or_nothing_and_audited(env):
    budget = define(env, label="预算", kind="number")
    grade = define(env, label="等级", kind="select", choices="重要\n一般", required=True)
    since = define(env, label="合作开始", kind="date")
    with env.ctx() as ctx:
        note = notes.create_note(ctx, "甲", owner_id=None)
        with pytest.raises(CustomValueRequired):
            services.set_values(ctx, note, {budget: "12.5"}, creating=True)
        with pytest.raises(CustomValueInvalid):
            services.set_values(ctx, note, {budget: "12.5", grade: "不存在"})
        with pytest.raises(CustomValueInvalid):
            services.set_values(ctx, note, {budget: "十二"})
        with pytest.raises(CustomValueInvalid):
            services.set_values(ctx, note, {since: "2026-13-01"})
        assert ctx.dbsession.scalar(select(func.count()).select_from(CustomValue)) == 0
        changes = services.set_values(ctx, note, {budget: "1,200.50", grade: "重要", since: "2026-01-31"})
        assert changes == {"预算": (None, "1200.50"), "等级": (None, "重要"), "合作开始": (None, "2026-01-31")}
        with pytest.raises(CustomValueRequired):
            services.set_values(ctx, note, {grade: ""})
        assert services.set_values(ctx, note, {budget: "1200.5"}) == {}  # the same number
        blanked = services.set_values(ctx, note, {budget: ""})
        assert list(blanked) == ["预算"] and decimal.Decimal(blanked["预算"][0]) == decimal.Decimal("1200.5")
        assert blanked["预算"][1] is None
        values = services.values_for(ctx, ScopedNote, [note.id])[note.id]
        assert values == {grade: "重要", since: dt.date(2026, 1, 31)}
        audit = ctx.dbsession.scalars(select(AuditEntry).where(AuditEntry.model == "scoped_note",
                                                               AuditEntry.action == "update")).all()
        assert [sorted(e.changes) for e in audit] == [["合作开始", "等级", "预算"], ["预算"]]


@pytest.mark.parametrize(("op", "value", "value2", "expected"), [
    ("eq", "重要", None, ["甲"]),
    ("ne", "重要", None, ["乙", "丙"]),
    ("empty", None, None, ["丙"]),
    ("not_empty", None, None, ["甲", "乙"]),
    ("contains", "一", None, ["乙"]),
])
def test_filters_on_a_text_value(env, op, value, value2, expected):
    grade = define(env, label="等级", kind="select", choices="重要\n一般")
    with env.ctx() as ctx:
        field = services.fields_for(ctx, ScopedNote)[0]
        for title, chosen in (("甲", "重要"), ("乙", "一般"), ("丙", None)):
            note = notes.create_note(ctx, title, owner_id=None)
            if chosen:
                services.set_values(ctx, note, {grade: chosen})
        condition = services.filter_condition(ScopedNote, field, op, value, value2)
        found = ctx.dbsession.scalars(select(ScopedNote.title).where(condition).order_by(ScopedNote.id)).all()
        assert found == expected


def test_number_and_date_ranges(env):
    budget = define(env, label="预算", kind="number")
    with env.ctx() as ctx:
        field = services.fields_for(ctx, ScopedNote)[0]
        for title, amount in (("甲", "100"), ("乙", "2500.75"), ("丙", "99999")):
            services.set_values(ctx, notes.create_note(ctx, title, owner_id=None), {budget: amount})
        between = services.filter_condition(ScopedNote, field, "between", decimal.Decimal("100"),
                                            decimal.Decimal("3000"))
        assert ctx.dbsession.scalars(select(ScopedNote.title).where(between).order_by(ScopedNote.id)).all() == [
            "甲", "乙"]
        above = services.filter_condition(ScopedNote, field, "gt", decimal.Decimal("2500.75"))
        assert ctx.dbsession.scalars(select(ScopedNote.title).where(above)).all() == ["丙"]


def test_a_kind_is_fixed_once_values_exist(env):
    budget = define(env, label="预算", kind="number")
    with env.ctx() as ctx:
        field = services.fields_for(ctx, ScopedNote)[0]
        services.set_values(ctx, notes.create_note(ctx, "甲", owner_id=None), {budget: "1"})
        with pytest.raises(FieldKindFixed):
            services.save_field(ctx, "scoped_note", field.id, label="预算", kind="text")
        services.save_field(ctx, "scoped_note", field.id, label="预算（元）", kind="number", active=False)
        assert services.fields_for(ctx, ScopedNote) == ()


def test_the_admin_page_adds_a_field_and_refuses_a_bad_one(make_kehu_app, catalog):
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    app.login()
    page = app.get("/admin/custom-fields")
    assert page.html.select_one("#custom-field-models [data-model=scoped_note]") is not None
    form = page.forms["custom-field-form"]
    form["label"], form["kind"], form["choices"] = "等级", "select", ""
    refused = form.submit(status=400)
    assert refused.html.select_one("#choices.is-invalid") is not None
    form = refused.forms["custom-field-form"]
    form["choices"] = "重要\n一般"
    form.submit(status=303)
    page = app.get("/admin/custom-fields?model=scoped_note")
    assert [li.a.text for li in page.html.select("#custom-fields li[data-field-id]")] == ["等级"]
    field_id = page.html.select_one("#custom-fields li[data-field-id]")["data-field-id"]
    edit = app.get(f"/admin/custom-fields/{field_id}")
    assert edit.forms["custom-field-form"]["choices"].value == "重要\n一般"


def test_a_salesperson_has_no_custom_fields_page(make_kehu_app, catalog, cli_env):
    app = make_kehu_app(catalog=catalog, install=["scoped"])
    with cli_env(catalog).ctx() as ctx:
        create_user(ctx, "zhangsan", "Spring-Tea-77", roles=["sales"], department_id=root_department(ctx).id)
    app.login("zhangsan", "Spring-Tea-77")
    app.get("/admin/custom-fields", status=403)


def test_the_migration_matches_the_models(env):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import Base

    with env.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if re.search(r"core_custom_(field|value)", str(d))] == []


def test_without_an_app_offering_them_the_page_says_so(make_kehu_app, catalog):
    app = make_kehu_app(catalog=catalog)
    app.login()
    assert app.get("/admin/custom-fields").html.select_one("#custom-fields-none") is not None
