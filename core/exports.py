"""CSV and XLSX files that spreadsheets cannot turn into formulas (CSV injection).

A cell is a number (``int``, ``float``, ``Decimal``: written as a number, never a formula) or
text. Text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``, so Excel
and WPS show it as text instead of running ``=HYPERLINK(…)`` or ``=cmd|…``; the same text goes
into both formats, so a CSV and an XLSX of one list read alike.
"""

from __future__ import annotations

import csv
import decimal
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Control characters an XLSX file cannot hold (openpyxl refuses them); CSV keeps them.
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's limit on sheet names, and the characters it refuses in them.
SHEET_TITLE_LENGTH = 31
SHEET_TITLE_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def safe_cell(value: Any) -> str:
    """A cell Excel and WPS show as text: a leading ``'`` defuses ``=HYPERLINK(…)`` and friends."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def export_cell(value: Any) -> Any:
    """Numbers stay numbers (``-5`` is no formula); everything else is made safe text."""
    return value if is_number(value) else safe_cell(value)


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel on Chinese Windows opens it without mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([export_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, sheet_title: str = "") -> bytes:
    """One sheet: a bold, frozen header row, then the rows. openpyxl's write-only mode streams
    the rows to a temporary file, so memory stays flat however long the list is.

    Text cells are always strings (a value starting with ``=`` could otherwise be stored as a
    formula by openpyxl); numbers are numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(title))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if is_number(value):
        return value
    return _xlsx_text(value) or None


def _xlsx_text(value: Any) -> str:
    """Control characters out first, then made safe: "\\x01=cmd" must not become "=cmd"."""
    return safe_cell(XLSX_ILLEGAL.sub("", "" if value is None else str(value)))


def _sheet_title(title: str) -> str:
    clean = " ".join(SHEET_TITLE_ILLEGAL.sub(" ", XLSX_ILLEGAL.sub("", title)).split()).strip("'")
    return clean[:SHEET_TITLE_LENGTH] or "Sheet1"
