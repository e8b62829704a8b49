"""Fields known only at run time, on the fixture addon's notes: an API resource's extra read
fields (loaded once per response) and custom fields in its body (``core.customfields.api``);
an import's extra fields (``ImportSpec.extra_fields``, ``core.customfields.imports``) mapped,
checked row by row with their own parse and handed to create/update beside the schema's data."""

import dataclasses
import datetime as dt
import decimal

import pytest
from pydantic import BaseModel
from pyramid.exceptions import ConfigurationError
from sqlalchemy import func, select

from core.api.resources import ApiResource
from core.customfields import services as custom
from core.customfields.api import api_values, check_api_values, write_api_values
from core.customfields.exceptions import CustomValueInvalid, CustomValueRequired
from core.customfields.imports import custom_import_fields, pop_custom
from core.customfields.models import CustomValue
from core.exceptions import ValidationFailed
from core.i18n import _, localizer_for
from core.imports.declaration import ImportField, ImportSpec
from core.imports.mapping import suggest_mapping
from core.imports.validation import check_row
from tests.fixtures.addons.scoped import imports as notes_imports
from tests.fixtures.addons.scoped import services as notes
from tests.fixtures.addons.scoped.models import ScopedNote

zh = localizer_for("zh_CN").translate


@pytest.fixture
def catalog(catalog_of):
    return catalog_of("tests.fixtures.addons.scoped")


@pytest.fixture
def env(kehu_db, cli_env, catalog):
    from core.addons.installer import install_addons

    env = cli_env(catalog)
    with env.ctx() as ctx:
        install_addons(ctx, catalog, ["scoped"])
    return env


def define(env, **fields):
    with env.ctx() as ctx:
        return custom.save_field(ctx, "scoped_note", **fields).name


def new_note(ctx, title):
    return notes.create_note(ctx, title, owner_id=None)


# -- the API: extra read fields ---------------------------------------------------------------------


class NoteWithCustom(BaseModel):
    id: int
    title: str
    custom: dict[str, str | int | float | None]


def test_extra_read_fields_are_loaded_once_for_all_the_records(env):
    budget = define(env, label="预算", kind="number")
    signed = define(env, label="签约日", kind="date")
    grade = define(env, label="等级", kind="select", choices="甲\n乙")
    calls = []

    def load(ctx, records):
        calls.append([r.id for r in records])
        return {record_id: {"custom": values} for record_id, values in
                api_values(ctx, ScopedNote, [r.id for r in records]).items()}

    resource = ApiResource(name="notes-custom", model=ScopedNote, read_schema=NoteWithCustom,
                           extra_fields=("custom",), load_extra=load)
    resource.check()
    with env.ctx() as ctx:
        first, second = new_note(ctx, "甲"), new_note(ctx, "乙")
        write_api_values(ctx, first, {budget: 12.5, signed: "2024-05-31", grade: "甲"})
        write_api_values(ctx, second, {budget: "1200000"})
        read = resource.read_values(ctx, [first, second])
        assert resource.read_values(ctx, []) == []
    assert calls == [[first.id, second.id]]  # one call for the page, none for an empty one
    assert read == [{"id": first.id, "title": "甲", "custom": {budget: 12.5, signed: "2024-05-31", grade: "甲"}},
                    {"id": second.id, "title": "乙", "custom": {budget: 1200000}}]
    assert isinstance(read[1]["custom"][budget], int)  # a whole number stays a JSON integer


def test_a_resource_declaring_extra_fields_wrongly_is_refused_at_start_up():
    def load(ctx, records):
        return {}

    plain = {"name": "notes-bad", "model": ScopedNote, "read_schema": NoteWithCustom}
    with pytest.raises(ConfigurationError, match="'custom' is not an attribute"):
        ApiResource(**plain).check()
    with pytest.raises(ConfigurationError, match="extra_fields and load_extra go together"):
        ApiResource(**plain, extra_fields=("custom",)).check()
    with pytest.raises(ConfigurationError, match="extra field 'colour' is not a read_schema field"):
        ApiResource(**plain, extra_fields=("custom", "colour"), load_extra=load).check()


# -- the API: custom values in a body -------------------------------------------------------------


def test_a_bodys_custom_values_are_refused_before_anything_is_written(env):
    budget = define(env, label="预算", kind="number")
    grade = define(env, label="等级", kind="select", choices="甲\n乙", required=True)
    with env.ctx() as ctx:
        note = new_note(ctx, "甲")
        with pytest.raises(ValidationFailed) as unknown:
            write_api_values(ctx, note, {grade: "甲", "cf_999999": "x"})
        assert unknown.value.params["field"] == "custom.cf_999999"
        with pytest.raises(CustomValueInvalid) as bad_number:
            write_api_values(ctx, note, {grade: "甲", budget: "很多"})
        assert bad_number.value.field_errors == [(f"custom.{budget}", bad_number.value)]
        assert "预算" in zh(bad_number.value.translation_string)
        with pytest.raises(CustomValueInvalid) as bad_choice:
            write_api_values(ctx, note, {grade: "丙"})
        assert bad_choice.value.field_errors[0][0] == f"custom.{grade}"
        with pytest.raises(ValidationFailed) as not_scalar:
            write_api_values(ctx, note, {grade: ["甲"]})
        assert not_scalar.value.params["field"] == f"custom.{grade}"
        with pytest.raises(ValidationFailed):
            write_api_values(ctx, note, {budget: True})
        with pytest.raises(CustomValueRequired) as left_out:
            check_api_values(ctx, ScopedNote, {budget: 3}, creating=True)
        assert left_out.value.field_errors[0][0] == f"custom.{grade}"
        with pytest.raises(CustomValueRequired):
            write_api_values(ctx, note, {grade: None})
        assert ctx.dbsession.scalar(select(func.count()).select_from(CustomValue)) == 0
        write_api_values(ctx, note, {grade: "乙", budget: 3})
        write_api_values(ctx, note, {budget: None})  # a blank, and the others stay
        assert custom.values_for(ctx, ScopedNote, [note.id])[note.id] == {grade: "乙"}


# -- imports: extra fields ------------------------------------------------------------------------


def spec_with_custom():
    """The notes import with the notes' custom fields (not module-level: tests only)."""
    return dataclasses.replace(notes_imports.NOTES_IMPORT, extra_fields=custom_import_fields(ScopedNote))


def test_a_spec_gains_a_field_per_active_custom_field_at_run_time(env):
    budget = define(env, label="预算", kind="number", required=True)
    retired = define(env, label="旧字段", kind="text", active=False)
    with env.ctx() as ctx:
        assert notes_imports.NOTES_IMPORT.for_ctx(ctx) is notes_imports.NOTES_IMPORT
        spec = spec_with_custom().for_ctx(ctx)
    assert spec.field_names == ("title", "mobile", "email", budget)
    assert retired not in spec.field_names
    assert (spec.field(budget).label, spec.field(budget).required) == ("预算", True)
    assert spec.extra_fields is None and spec.for_ctx(None) is spec
    # the header is the label (or the name)
    assert suggest_mapping(spec, ["标题", "预算"], {}) == {0: "title", 1: budget}
    assert suggest_mapping(spec, ["标题", budget], {}) == {0: "title", 1: budget}


def test_an_extra_field_named_like_a_declared_one_or_without_parse_is_left_out():
    def extra(ctx):
        return (ImportField("title", "又一个标题", parse=str), ImportField("colour", "颜色"),
                ImportField("size", "尺寸", parse=int))

    spec = dataclasses.replace(notes_imports.NOTES_IMPORT, extra_fields=extra).for_ctx(None)
    assert spec.field_names == ("title", "mobile", "email", "size")
    assert spec.field("title").label == notes_imports.NOTES_IMPORT.field("title").label


def test_rows_check_extra_cells_with_their_parse_and_hand_them_on(env):
    budget = define(env, label="预算", kind="number")
    signed = define(env, label="签约日", kind="date", required=True)
    with env.ctx() as ctx:
        spec = spec_with_custom().for_ctx(ctx)
    mapping = {"0": "title", "1": budget, "2": signed}
    good = check_row(spec, mapping, ["甲", "1,200.5", "2024-05-31"])
    assert good.problems == ()
    assert good.written() == {"title": "甲", "mobile": None, "email": None, budget: decimal.Decimal("1200.5"),
                              signed: dt.date(2024, 5, 31)}
    assert check_row(spec, mapping, ["甲", "", "2024-05-31"]).written(exclude_unset=True) == {
        "title": "甲", signed: dt.date(2024, 5, 31)}
    bad = check_row(spec, mapping, ["", "很多", ""])
    assert bad.data is None
    by_field = {problem.field: zh(problem.message) for problem in bad.problems}
    assert set(by_field) == {"title", budget, signed}
    assert by_field[budget] == zh(_("enter a number"))
    assert by_field[signed] == zh(_("is required"))
    # a column mapped to a field retired since: not imported
    assert check_row(spec, {**mapping, "3": "cf_999999"}, ["甲", "", "2024-05-31", "x"]).problems == ()


def test_pop_custom_splits_the_rows_data():
    data = {"title": "甲", "cf_3": decimal.Decimal(1), "cf_12": None}
    assert pop_custom(data) == {"cf_3": decimal.Decimal(1), "cf_12": None}
    assert data == {"title": "甲"}


def test_a_declared_field_outside_the_schema_needs_a_parse():
    with pytest.raises(ConfigurationError, match="'colour' is not in the schema and has no parse"):
        ImportSpec(key="scoped.local", model=ScopedNote, title="x",
                   fields=(ImportField("title", "T"), ImportField("colour", "C")),
                   schema=notes_imports.NoteRow, create=notes_imports.create_note).check()
