"""CSV exports that spreadsheets cannot turn into formulas (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell Excel and WPS show as text: a leading ``'`` defuses ``=HYPERLINK(…)`` and friends."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel on Chinese Windows opens it without mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
