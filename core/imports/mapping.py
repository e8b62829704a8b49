"""Which column of the file goes to which field: suggested from the user's last choice for this
import (by header text), else from the field's name, its label in each language and its
aliases; checked (required fields mapped, no field twice); remembered when the user confirms."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from pyramid.i18n import TranslationString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.context import Ctx
from core.i18n import _, localizer_for
from core.imports.declaration import ImportSpec, Label
from core.imports.models import ImportMapping

#: How many header texts a user's remembered mapping keeps per import.
REMEMBERED_LIMIT = 300
_NOISE = re.compile(r"[\s_\-*:：()（）\[\]【】]+")


def normalise_header(text: str) -> str:
    """``" Mobile_No* "`` → ``"mobileno"``: compare headers loosely."""
    return _NOISE.sub("", text).casefold()


def field_names(spec: ImportSpec, translators: Iterable[Callable[[Label], str]] = ()) -> dict[str, str]:
    """``{normalised header: field}`` for every way a header may name a field: its name, its
    label in zh_CN, en and the reader's language, and its aliases (first declared field wins)."""
    translate_all = [*translators, localizer_for("zh_CN").translate, localizer_for("en").translate]
    known: dict[str, str] = {}
    for field in spec.fields:
        spellings = [field.name, str(field.label), *(t(field.label) for t in translate_all), *field.aliases]
        for spelling in spellings:
            known.setdefault(normalise_header(spelling), field.name)
    known.pop("", None)
    return known


def suggest_mapping(spec: ImportSpec, headers: Sequence[str], remembered: Mapping[str, str],
                    translators: Iterable[Callable[[Label], str]] = ()) -> dict[int, str]:
    """``{column index: field}``; a field is suggested for one column at most."""
    known = field_names(spec, translators)
    valid = set(spec.field_names)
    chosen: dict[int, str] = {}
    for index, header in enumerate(headers):
        if header in remembered:  # the user's own choice wins, "do not import" ("") included
            field = remembered[header]
        else:
            field = known.get(normalise_header(header), "")
        if field in valid and field not in chosen.values():
            chosen[index] = field
    return chosen


def check_mapping(spec: ImportSpec, chosen: Mapping[int, str]) -> tuple[dict[int, TranslationString],
                                                                        list[TranslationString]]:
    """Errors beside columns (a field chosen twice, an unknown field) and for the whole form (a
    required field no column is mapped to). Both empty: the mapping may be saved."""
    column_errors: dict[int, TranslationString] = {}
    seen: dict[str, int] = {}
    valid = set(spec.field_names)
    for index, field in sorted(chosen.items()):
        if field not in valid:
            column_errors[index] = _("Choose a field from the list.")
        elif field in seen:
            label = spec.field(field).label
            message = _("“${field}” is chosen for more than one column.", mapping={"field": label})
            column_errors[index] = column_errors.setdefault(seen[field], message)
        else:
            seen[field] = index
    missing = [_("Map a column to “${field}”: it is required.", mapping={"field": field.label})
               for field in spec.fields if field.required and field.name not in seen]
    return column_errors, missing


def remembered_mapping(ctx: Ctx, key: str) -> dict[str, str]:
    row = _row(ctx, key)
    return dict(row.mapping) if row is not None else {}


def remember_mapping(ctx: Ctx, key: str, headers: Sequence[str], chosen: Mapping[int, str]) -> None:
    """Keep ``{header text: field}`` for this user and import, "" for a column not imported, so
    the next file with these headers is mapped the same way. Other headers already known stay."""
    choice = {header: chosen.get(index, "") for index, header in enumerate(headers) if header}
    row = _row(ctx, key)
    if row is None:
        try:
            with ctx.dbsession.begin_nested():
                ctx.dbsession.add(ImportMapping(user_id=ctx.user.id, import_key=key, mapping=choice))
            return
        except IntegrityError:  # the same user confirmed another mapping of this import meanwhile
            row = _row(ctx, key)
            if row is None:
                raise
    merged = {name: field for name, field in row.mapping.items() if name not in choice}
    merged.update(choice)
    row.mapping = dict(list(merged.items())[-REMEMBERED_LIMIT:])


def _row(ctx: Ctx, key: str) -> ImportMapping | None:
    return ctx.dbsession.scalar(select(ImportMapping).where(ImportMapping.user_id == ctx.user.id,
                                                            ImportMapping.import_key == key))
