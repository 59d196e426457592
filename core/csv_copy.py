"""A CSV export written by PostgreSQL: ``COPY (SELECT …) TO STDOUT`` streams the file's lines, formatted in
SQL exactly as ``core.files.csv_cell`` formats Python values for Russian Excel (``;`` separator, decimal
comma, dd.mm.yyyy hh:mm in the site's time zone, yes/no in the reader's language, a text that Excel would
run as a formula made plain by a leading apostrophe).

For the biggest exports (the cards: thousands of rows with their descriptions): reading every value into
Python and writing it back out with the csv module took as long as the query itself; here Python only
passes PostgreSQL's bytes on, in pieces of about ``STREAM_CHUNK_CHARS``. The rows come from the screen's
own queryset (its filters, its order), wrapped, so the file holds what the screen's filter holds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.files import CSV_CONTENT_TYPE, CSV_DELIMITER, FORMULA_PREFIXES, STREAM_CHUNK_CHARS


class As(StrEnum):
    """How a column's value is written, as csv_cell writes the Python value of that type."""

    TEXT = "text"
    NUMBER = "number"  # int or Decimal: str() with a decimal comma
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    LIST = "list"  # an array, its items joined by ", "


Column = tuple[str, "As | Mapping[str, str]"]  # (the queryset's column name, how; a mapping: a choice's labels)

_FORMULA_START = ", ".join("E'" + p.replace("\t", "\\t").replace("\r", "\\r") + "'" for p in FORMULA_PREFIXES)


def _text(expression: str) -> str:
    # '' as NULL: PostgreSQL writes an empty string as "" and NULL as nothing; csv.writer writes both as nothing.
    return (f"CASE WHEN left({expression}, 1) IN ({_FORMULA_START}) THEN '''' || {expression} "
            f"ELSE NULLIF({expression}, '') END")


def _compose(sql: str, params: Sequence[Any]) -> str:
    """The statement with its parameters bound in, quoted by the driver (COPY takes no bound parameters)."""
    ops: Any = connection.ops  # PostgreSQL's operations; compose_sql is not on the base class
    return str(ops.compose_sql(sql, params))


def _literal(value: str) -> str:
    # Escaped for the _compose that binds the queryset's parameters into the whole statement.
    return _compose("%s", [value]).replace("%", "%%")


def _cell(name: str, how: As | Mapping[str, str]) -> str:
    column = f'export."{name}"'
    if isinstance(how, Mapping):
        whens = " ".join(f"WHEN {_literal(value)} THEN {_literal(str(label))}" for value, label in how.items())
        return _text(f"(CASE {column}::text {whens} ELSE {column}::text END)")
    if how is As.TEXT:
        return _text(f"{column}::text")
    if how is As.NUMBER:
        return f"replace({column}::text, '.', ',')"
    if how is As.BOOL:
        return f"CASE WHEN {column} THEN {_literal(_('yes'))} WHEN NOT {column} THEN {_literal(_('no'))} END"
    if how is As.DATETIME:
        return f"to_char({column} AT TIME ZONE {_literal(timezone.get_current_timezone_name())}, 'DD.MM.YYYY HH24:MI')"
    if how is As.DATE:
        return f"to_char({column}, 'DD.MM.YYYY')"
    return _text(f"array_to_string({column}, ', ')")


def copy_statement(queryset: QuerySet[Any], columns: Sequence[Column], order_by: Sequence[str]) -> str:
    """The COPY statement writing `queryset`'s rows (a ``values()`` / ``values_list()`` of at least the
    named columns) as CSV lines, in the order of its `order_by` columns, its parameters bound in."""
    cells = [_cell(name, how) for name, how in columns]
    inner, inner_params = queryset.query.sql_with_params()
    order = ", ".join(f'export."{name}"' for name in order_by)
    select = f"SELECT {', '.join(cells)} FROM ({inner}) AS export ORDER BY {order}"  # noqa: S608 - names are ours
    statement = _compose(select, inner_params)
    return f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, DELIMITER '{CSV_DELIMITER}')"


def _header_line(header: Sequence[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\n").writerow([str(label) for label in header])
    return "\ufeff" + out.getvalue()


def _pieces(blocks: Iterable[Any], first: bytes, size: int = STREAM_CHUNK_CHARS) -> Iterator[bytes]:
    """COPY hands one line per block: joined into pieces of about `size` bytes for the web server."""
    buffer, length = [first], len(first)
    for block in blocks:
        data = bytes(block)
        buffer.append(data)
        length += len(data)
        if length >= size:
            yield b"".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield b"".join(buffer)


def copy_csv(header: Sequence[Any], queryset: QuerySet[Any], columns: Sequence[Column],
             order_by: Sequence[str]) -> Iterator[bytes]:
    """The CSV file's bytes: the header (with the BOM Excel needs), then the rows as PostgreSQL writes them.
    Lines end in LF (COPY's), which Excel reads as it reads CRLF."""
    statement = copy_statement(queryset, columns, order_by)
    first = _header_line(header).encode("utf-8")
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        yield from _pieces(copy, first)


def copy_csv_response(filename: str, header: Sequence[Any], queryset: QuerySet[Any], columns: Sequence[Column],
                      order_by: Sequence[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(copy_csv(header, queryset, columns, order_by), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
