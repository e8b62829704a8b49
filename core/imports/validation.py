"""One row of the file through the import's schema: the cleaned data, or its problems, each
beside the column it came from and in the reader's language.

The same function checks the preview's rows and every row of the run, so what the preview
shows is what the run will do."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pyramid.i18n import TranslationString

from core.exceptions import KehuError
from core.i18n import _
from core.imports.declaration import ImportSpec

Message = str | TranslationString
_NUMBER_ERRORS = frozenset({"int_parsing", "int_from_float", "int_type", "float_parsing", "float_type",
                            "decimal_parsing", "decimal_type", "decimal_max_digits", "decimal_max_places",
                            "decimal_whole_digits"})
_RANGE_ERRORS = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of"})


@dataclasses.dataclass(frozen=True)
class Problem:
    """What is wrong with one field of a row (``field`` None: with the row as a whole)."""

    field: str | None
    message: Message


@dataclasses.dataclass(frozen=True)
class CheckedRow:
    #: ``{field: cell text}`` of the mapped, non-empty cells.
    values: dict[str, str]
    data: BaseModel | None
    problems: tuple[Problem, ...]
    #: ``{field: value}`` of the spec's extra fields (``ImportField.parse``) the row fills.
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def written(self, *, exclude_unset: bool = False) -> dict[str, Any]:
        """What ``create`` (every field) or ``update`` (``exclude_unset``: the filled cells)
        receives: the schema's data and the extra fields' values."""
        assert self.data is not None
        return {**self.data.model_dump(exclude_unset=exclude_unset), **self.extra}

    @property
    def blank(self) -> bool:
        """No mapped cell holds anything: the run skips the row."""
        return not self.values

    @property
    def problem_fields(self) -> frozenset[str | None]:
        return frozenset(problem.field for problem in self.problems)


def mapped_values(mapping: Mapping[str, str], row: Sequence[str]) -> dict[str, str]:
    """``{field: stripped cell}`` for the mapped columns whose cell is not empty."""
    values: dict[str, str] = {}
    for index, field in mapping.items():
        position = int(index)
        cell = row[position].strip() if position < len(row) else ""
        if cell:
            values[field] = cell
    return values


def check_row(spec: ImportSpec, mapping: Mapping[str, str], row: Sequence[str]) -> CheckedRow:
    """Validate the row's mapped cells with ``spec.schema``, and those of extra fields with
    their ``parse``. Empty cells are left out, so an optional field takes its default and a
    required one is reported missing. A column mapped to a field the spec no longer has (an
    extra field retired since the mapping) is not imported."""
    known = set(spec.field_names)
    values = {field: cell for field, cell in mapped_values(mapping, row).items() if field in known}
    if not values:
        return CheckedRow(values, None, ())
    own = {field: cell for field, cell in values.items() if spec.field(field).parse is None}
    problems: list[Problem] = []
    extra: dict[str, Any] = {}
    data = None
    try:
        data = spec.schema.model_validate(own)
    except ValidationError as exc:
        problems.extend(Problem(_field_of(error, spec), problem_message(error))
                        for error in exc.errors(include_url=False))
    for field in spec.fields:
        if field.parse is None:
            continue
        if field.name not in values:
            if field.required:
                problems.append(Problem(field.name, _("is required")))
            continue
        try:
            extra[field.name] = field.parse(values[field.name])
        except (KehuError, ValueError) as exc:
            problems.append(Problem(field.name, _refusal(exc)))
    if problems:
        return CheckedRow(values, None, tuple(problems))
    return CheckedRow(values, data, (), extra)


def _refusal(exc: Exception) -> Message:
    """An extra field's refusal in the reader's language when it carries a translation string."""
    if isinstance(exc, KehuError):
        return exc.translation_string
    if exc.args and isinstance(exc.args[0], TranslationString):
        return exc.args[0]
    return str(exc)


def _field_of(error: Mapping[str, Any], spec: ImportSpec) -> str | None:
    location = error.get("loc") or ()
    field = location[0] if location else None
    return field if isinstance(field, str) and field in spec.field_names else None


def problem_message(error: Mapping[str, Any]) -> Message:
    """A pydantic error in words we translate; an addon validator's own ``ValueError(_("…"))``
    or ``KehuError`` as it is; pydantic's English text only for rare kinds."""
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "missing":
        return _("is required")
    if kind == "string_too_short":
        if context.get("min_length") == 1:
            return _("is required")
        return _("needs at least ${count} characters", mapping={"count": context.get("min_length")})
    if kind == "string_too_long":
        return _("has more than ${count} characters", mapping={"count": context.get("max_length")})
    if kind == "string_pattern_mismatch":
        return _("is not in the expected format")
    if kind in _NUMBER_ERRORS:
        return _("is not a number")
    if kind in _RANGE_ERRORS:
        return _("is out of range")
    if kind.startswith(("date", "datetime", "time")):
        return _("is not a date (write it as 2024-05-31)")
    if kind.startswith("bool"):
        return _("is not yes or no (write 1 or 0)")
    if kind in ("literal_error", "enum"):
        return _("is not one of: ${choices}", mapping={"choices": context.get("expected", "")})
    if kind in ("value_error", "assertion_error"):
        cause = context.get("error")
        if isinstance(cause, KehuError):
            return cause.translation_string
        if cause is not None and cause.args and isinstance(cause.args[0], TranslationString):
            return cause.args[0]
    return str(error.get("msg", kind))


def describe(problems: Sequence[Problem], column_names: Mapping[str, str],
             translate: Callable[[Message], str]) -> str:
    """The problems as one line of the errors file: ``手机: is not a mobile number; 邮箱: …``,
    each named by the file's own column header."""
    parts = []
    for problem in problems:
        text = translate(problem.message)
        name = column_names.get(problem.field or "", "")
        parts.append(translate(_("${field}: ${problem}", mapping={"field": name, "problem": text})) if name else text)
    return "; ".join(parts)
