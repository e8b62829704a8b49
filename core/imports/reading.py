"""Reading an upload into a header and rows of text, whatever it came as.

- **CSV** (and ``.txt``/``.tsv``): UTF-8, with or without a BOM; if it is not UTF-8, GB18030 (a
  superset of GBK/GB2312, what Excel and WPS on Chinese Windows write as "CSV") — the mapping
  page then says the file was read as GBK, so a wrong guess shows at once in the sample values;
  UTF-16 with a BOM (Excel's "Unicode text"). Anything else is refused with what to do ("save as
  CSV UTF-8"), never imported as mojibake. The delimiter is the most frequent of comma, tab and
  semicolon in the header line.
- **XLSX**: the first sheet, through openpyxl in read-only mode (rows stream; the row limit
  stops a huge sheet early). Cells become text as a person reads them: dates as ISO
  ``2024-05-01``, whole numbers without ``.0`` (a mobile number typed as a number stays
  ``13812345678``).
- **XLS** (the pre-2007 binary format) is refused with how to convert it.

Limits (``kehu.import_max_bytes``, ``kehu.import_max_rows``) are checked here with messages
naming them. Trailing blank rows (Excel's formatted-but-empty rows) are dropped; blank rows in
between stay, so row numbers match the file's, and are skipped by the run.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import itertools
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from core.imports.exceptions import (
    EmptyFile,
    FileTooLarge,
    NoDataRows,
    NoHeaderRow,
    OldExcelFormat,
    TooManyColumns,
    TooManyRows,
    UnknownEncoding,
    UnreadableWorkbook,
    UnsupportedFile,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_ROWS = 50_000
MAX_COLUMNS = 200
DELIMITERS = (",", "\t", ";")
TEXT_EXTENSIONS = (".csv", ".txt", ".tsv", "")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx

UTF8 = "utf-8"
GB18030 = "gb18030"
UTF16 = "utf-16"
XLSX = "xlsx"


@dataclasses.dataclass(frozen=True)
class Table:
    """An upload as text: the header row, the data rows (each as wide as the header), and what
    it was read as (``utf-8``, ``gb18030``, ``utf-16`` or ``xlsx``)."""

    headers: list[str]
    rows: list[list[str]]
    encoding: str


def limits(settings: Any) -> tuple[int, int]:
    """``(max bytes, max rows)`` from the settings, or the defaults (10 MiB, 50,000 rows)."""
    return (int(settings.get("kehu.import_max_bytes", DEFAULT_MAX_BYTES)),
            int(settings.get("kehu.import_max_rows", DEFAULT_MAX_ROWS)))


def size_text(size: int) -> str:
    """``10 MB``, ``512 KB``: a limit as people say it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{max(1, size // 1024)} KB"


def read_upload(filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES,
                max_rows: int = DEFAULT_MAX_ROWS) -> Table:
    """The file's table, or a ``FileRefused`` error saying why not and what to do."""
    if len(data) > max_bytes:
        raise FileTooLarge(limit=size_text(max_bytes))
    if not data.strip():
        raise EmptyFile()
    extension = os.path.splitext(filename.lower())[1]
    if data.startswith(OLE_MAGIC):
        raise UnreadableWorkbook() if extension == ".xlsx" else OldExcelFormat()
    if extension == ".xls":
        raise OldExcelFormat()
    if data.startswith(ZIP_MAGIC):
        return _collect(_xlsx_rows(data), XLSX, max_rows)
    if extension == ".xlsx":
        raise UnreadableWorkbook()
    if extension not in TEXT_EXTENSIONS:
        raise UnsupportedFile()
    text, encoding = decode_text(data)
    return _collect(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)), encoding, max_rows)


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was read in; ``UnknownEncoding`` when it is none we know."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8):].decode(UTF8), UTF8
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode(UTF16), UTF16
    except UnicodeDecodeError:
        raise UnknownEncoding() from None
    if b"\x00" in data:  # binary, or UTF-16 without a BOM
        raise UnknownEncoding()
    for encoding in (UTF8, GB18030):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnknownEncoding()


def sniff_delimiter(text: str) -> str:
    """The most frequent of comma, tab and semicolon in the first line (a comma on a tie)."""
    first = text.split("\n", 1)[0]
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _xlsx_rows(data: bytes) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException … all mean "not readable"
        log.info("unreadable workbook: %r", exc)
        raise UnreadableWorkbook() from None
    try:
        if not workbook.worksheets:
            raise EmptyFile()
        try:
            for row in workbook.worksheets[0].iter_rows(values_only=True):
                yield [cell_text(value) for value in row]
        except Exception as exc:
            log.info("unreadable worksheet: %r", exc)
            raise UnreadableWorkbook() from None
    finally:
        workbook.close()


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a person reads in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    return str(value)


def _trimmed(cells: Sequence[Any]) -> list[str]:
    """The row's cells as text without its empty cells at the end (an empty row is [])."""
    row = ["" if cell is None else str(cell) for cell in cells]
    while row and not row[-1].strip():
        row.pop()
    return row


def _collect(rows: Iterable[Sequence[Any]], encoding: str, max_rows: int) -> Table:
    header: list[str] | None = None
    body: list[list[str]] = []
    blank_run = 0
    for raw in rows:
        cells = _trimmed(raw)
        if len(cells) > MAX_COLUMNS:
            raise TooManyColumns(limit=MAX_COLUMNS)
        if header is None:
            if not cells:
                raise NoHeaderRow()
            header = [cell.strip() for cell in cells]
            continue
        if not cells:
            blank_run += 1
            continue
        if blank_run:
            body.extend([] for _ in range(blank_run))
            blank_run = 0
        body.append(cells)
        if len(body) > max_rows:
            raise TooManyRows(limit=f"{max_rows:,}")
    if header is None:
        raise EmptyFile()
    if not body:
        raise NoDataRows()
    width = max(len(header), *(len(row) for row in body))
    header += [""] * (width - len(header))
    return Table(header, [row + [""] * (width - len(row)) for row in body], encoding)


# -- the stored form: UTF-8 CSV, header first ---------------------------------------------------

def table_csv(table: Table) -> bytes:
    """The table as the UTF-8 CSV every later step reads (one format, whatever was uploaded)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return buffer.getvalue().encode(UTF8)


def stored_rows(data: bytes, start: int = 0, stop: int | None = None) -> list[list[str]]:
    """Data rows ``start`` (0 = the first below the header) up to ``stop`` of a stored table."""
    reader = csv.reader(io.StringIO(data.decode(UTF8), newline=""))
    next(reader, None)
    return list(itertools.islice(reader, start, stop))
