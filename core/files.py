"""Excel in and out, shared by every screen that exports or imports a table.

Out: ``csv_response`` (Russian Excel's CSV: ``;`` separator, decimal comma, UTF-8 with a BOM so Excel
does not read it as cp1251) and ``xlsx_response`` (openpyxl's write-only mode: rows go to a temporary
file as they come, so memory stays flat whatever the row count). Both take rows from an iterator (a
queryset's ``.iterator()``), and both neutralise formula injection: a text cell starting with ``=``,
``+``, ``-`` or ``@`` (or a tab / carriage return) gets a leading apostrophe, so Excel shows it as text
instead of running it.

In: ``read_table`` turns an uploaded XLSX or CSV into rows of text, refusing a file that is too big, of
another type or unreadable with a ``FileRejected`` that says why in words; ``restore`` undoes the
apostrophe an export added, so a file exported and imported unchanged changes nothing.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

CSV_DELIMITER = ";"
CSV_ENCODING = "utf-8-sig"  # utf-8 with the BOM Excel needs to detect it
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
DATETIME_FORMAT = "%d.%m.%Y %H:%M"
DATE_FORMAT = "%d.%m.%Y"


# ---------------------------------------------------------------------------------------------
# Cells


def neutralise(text: str) -> str:
    """A text that Excel would run as a formula, made plain text by a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def restore(text: str) -> str:
    """Undo ``neutralise`` on a value read back from an exported file."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def _local(moment: datetime) -> datetime:
    """Moscow wall time without a zone (Excel has no time zones)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.replace(tzinfo=None)


def csv_cell(value: Any) -> str:
    """A value as Russian Excel reads it from a CSV: decimal comma, dd.mm.yyyy dates, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return _local(value).strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    return neutralise(str(value))


def xlsx_cell(value: Any) -> Any:
    """A value as an XLSX cell: numbers stay numbers (Excel shows its own decimal separator)."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or isinstance(value, int | Decimal | float):
        return value
    if isinstance(value, datetime):
        return _local(value)
    if isinstance(value, date):
        return value
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    return neutralise(str(value))


# ---------------------------------------------------------------------------------------------
# Exports


class _Echo:
    """csv.writer writes into this and gets the line back, to hand to a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER, lineterminator="\r\n")
    yes, no = _("yes"), _("no")

    def cell(value: Any) -> str:
        # csv_cell with the commonest cells first and "yes"/"no" translated once per file, not per cell:
        # a 100k-row export has millions of cells.
        kind = type(value)
        if kind is str:
            return neutralise(value)
        if value is None:
            return ""
        if kind is bool:
            return yes if value else no
        if kind is int:
            return str(value)
        return csv_cell(value)

    yield "\ufeff" + writer.writerow([str(label) for label in header])
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def _disposition(filename: str) -> str:
    return f'attachment; filename="{filename}"'


STREAM_CHUNK_CHARS = 64 * 1024  # a streamed file goes out in pieces of about this size, not a line at a time


def chunks(lines: Iterable[str], size: int = STREAM_CHUNK_CHARS) -> Iterator[bytes]:
    """The lines joined into UTF-8 pieces of about `size` characters: a web server writes each piece of
    a streamed response with its own system call (and chunk header), so a line apiece made a 4 000-row
    file cost as much to send as to build."""
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer).encode("utf-8")
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer).encode("utf-8")


def csv_response(filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A streamed CSV download: rows are written as the iterator yields them, sent in pieces of about
    STREAM_CHUNK_CHARS (the first as soon as that many are written)."""
    response = StreamingHttpResponse(chunks(csv_lines(header, rows)), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = _disposition(filename)
    return response


def write_xlsx(target: Any, sheet_title: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> None:
    """Write a one-sheet workbook in openpyxl's write-only mode (rows are not kept in memory)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=str(label))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([xlsx_cell(value) for value in row])
    workbook.save(target)


def xlsx_response(
    filename: str, sheet_title: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> FileResponse:
    """An XLSX download: written to a temporary file in write-only mode, then streamed from it."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    write_xlsx(spool, sheet_title, header, rows)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def export_response(
    fmt: str, basename: str, sheet_title: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse | FileResponse:
    if fmt == "xlsx":
        return xlsx_response(stamped(basename, "xlsx"), sheet_title, header, rows)
    return csv_response(stamped(basename, "csv"), header, rows)


def stamped(basename: str, extension: str) -> str:
    """An export's file name: what it holds and when (Moscow time), e.g. listings_2026-12-04_18-30.csv."""
    return f"{basename}_{timezone.localtime().strftime('%Y-%m-%d_%H-%M')}.{extension}"


# ---------------------------------------------------------------------------------------------
# Imports


class FileRejected(ValueError):
    """The file as a whole cannot be read; the message says why, in words for the user."""


@dataclass(frozen=True)
class Table:
    """An uploaded sheet as text: ``rows[0]`` is the header; row numbers are as Excel shows them."""

    filename: str
    rows: list[list[str]]

    @property
    def header(self) -> list[str]:
        return self.rows[0] if self.rows else []

    def data(self) -> Iterator[tuple[int, list[str]]]:
        """(Excel row number, cells) of each non-empty row under the header."""
        for index, cells in enumerate(self.rows[1:], start=2):
            if any(cell.strip() for cell in cells):
                yield index, cells


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how Excel names the column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def find_column(header: Sequence[Any], names: set[str]) -> int | None:
    """The index of the first header cell that is one of `names` (lower case), or None."""
    for index, cell in enumerate(header):
        if str(cell or "").strip().lower() in names:
            return index
    return None


def read_table(upload: UploadedFile[Any]) -> Table:
    """An uploaded .xlsx or .csv as rows of text, or FileRejected saying what is wrong with it."""
    name = upload.name or ""
    lower = name.lower()
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise FileRejected(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into several files.")
            % {"size": round(upload.size / 1024 / 1024, 1), "limit": MAX_UPLOAD_BYTES // 1024 // 1024}
        )
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRejected(_("The file is larger than %(limit)s MB.") % {"limit": MAX_UPLOAD_BYTES // 1024 // 1024})
    if not data:
        raise FileRejected(_("The file is empty."))
    if lower.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            _("This is an old Excel 97-2003 (.xls) file. In Excel choose File → Save as → Excel workbook (.xlsx).")
        )
    if lower.endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif lower.endswith((".csv", ".txt")):
        rows = _csv_rows(data)
    else:
        raise FileRejected(_("Only .xlsx and .csv files can be imported; “%(name)s” is neither.") % {"name": name})
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise FileRejected(
            _("The file has %(count)s rows; at most %(limit)s can be imported at once.")
            % {"count": len(rows) - 1, "limit": MAX_IMPORT_ROWS}
        )
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise FileRejected(_("The first row must hold the column names, as in an exported file."))
    return Table(filename=name, rows=rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    return str(value)


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise FileRejected(_("The file is not a readable Excel workbook (.xlsx).")) from error
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_text(value) for value in values])
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV (разделители - запятые)" saves in the Windows Cyrillic code page.
        text = data.decode("cp1251", errors="strict") if _is_cp1251(data) else ""
        if not text:
            raise FileRejected(_("The CSV file is neither UTF-8 nor Windows-1251 text.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as error:
        raise FileRejected(_("The CSV file cannot be read: %(error)s") % {"error": error}) from error


def _is_cp1251(data: bytes) -> bool:
    try:
        data.decode("cp1251")
    except UnicodeDecodeError:
        return False
    return True
