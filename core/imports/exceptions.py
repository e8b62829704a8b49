"""What an importing user can meet: a file that cannot be read (shown on the upload page), and a
row that cannot go in (its reason in the errors file)."""

from __future__ import annotations

from core.exceptions import KehuError
from core.i18n import _


class FileRefused(KehuError):
    """The upload cannot be imported; the message says why and what to do."""


class NoFileChosen(FileRefused):
    message = _("Choose a file to upload.")


class FileTooLarge(FileRefused):
    message = _("The file is larger than ${limit}: split it into smaller files and import them one by one.")


class TooManyRows(FileRefused):
    message = _("The file has more than ${limit} rows: split it into smaller files and import them one by one.")


class TooManyColumns(FileRefused):
    message = _("The file has more than ${limit} columns.")


class EmptyFile(FileRefused):
    message = _("The file is empty.")


class NoDataRows(FileRefused):
    message = _("The file has a header row but no rows below it.")


class NoHeaderRow(FileRefused):
    message = _("The first row must hold the column names.")


class UnknownEncoding(FileRefused):
    message = _("The file is neither UTF-8 nor GBK text and cannot be read. In Excel or WPS choose "
                "Save As → “CSV UTF-8 (comma delimited)”, then upload the new file.")


class OldExcelFormat(FileRefused):
    message = _("Old Excel files (.xls) cannot be read. In Excel or WPS choose Save As → “Excel Workbook "
                "(.xlsx)” or “CSV UTF-8 (comma delimited)”, then upload the new file.")


class UnreadableWorkbook(FileRefused):
    message = _("The file cannot be read as an Excel workbook (.xlsx): it may be damaged or protected "
                "with a password.")


class UnsupportedFile(FileRefused):
    message = _("Upload a CSV file or an Excel workbook (.xlsx).")


class UploadExpired(FileRefused):
    message = _("The uploaded file is no longer kept: upload it again.")


class KeyValueMissing(KehuError):
    message = _("${field} is empty: it is needed to find the record to update.")


class AmbiguousKey(KehuError):
    message = _("Several records have ${field} “${value}”: the row cannot say which one to update.")


class RowConflict(KehuError):
    message = _("This row conflicts with an existing record: a value that must be unique is taken, "
                "perhaps by a record you may not change.")


class ImportUnavailable(KehuError):
    message = _("The app that provides this import is not installed.")


class ImporterInactive(KehuError):
    message = _("The user who started this import is deactivated.")


class MappingIncomplete(KehuError):
    message = _("Map every required field, each to one column.")


class ImportAlreadyStarted(KehuError):
    message = _("This import has started already.")


class UpdateNotOffered(KehuError):
    message = _("This import can only create new records.")


class KeyFieldNeeded(KehuError):
    message = _("Choose the field that finds the records to update.")


class KeyFieldInvalid(KehuError):
    message = _("Choose one of the listed fields: it must be mapped to a column.")
