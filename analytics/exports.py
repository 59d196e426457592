"""The reports' tables as XLSX (the table, and the chart's data on a second sheet with an Excel chart)
and CSV (the table), with core.files' cells: Russian Excel conventions, formula injection neutralised."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from core.files import XLSX_CONTENT_TYPE, csv_response, xlsx_cell


def write_workbook(target: Any, sheets: Sequence[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]],
                   chart_sheet: int | None = None) -> None:
    """Sheets of (title, header, rows); the sheet `chart_sheet` gets a line chart of its columns."""
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for index, (title, header, rows) in enumerate(sheets):
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([str(label) for label in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        count = 0
        for row in rows:
            sheet.append([xlsx_cell(value) for value in row])
            count += 1
        if index == chart_sheet and count:
            chart = LineChart()
            chart.title = title
            chart.height, chart.width = 9, 22
            data = Reference(sheet, min_col=2, max_col=len(header), min_row=1, max_row=count + 1)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=count + 1))
            sheet.add_chart(chart, f"{chr(ord('A') + len(header) + 1)}2")
    workbook.save(target)


def report_response(fmt: str, basename: str, sheets: Sequence[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]],
                    chart_sheet: int | None = None) -> FileResponse | StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y-%m-%d_%H-%M")
    if fmt == "xlsx":
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
        write_workbook(spool, sheets, chart_sheet)
        spool.seek(0)
        return FileResponse(spool, as_attachment=True, filename=f"{basename}_{stamp}.xlsx",
                            content_type=XLSX_CONTENT_TYPE)
    _title, header, rows = sheets[0]
    return csv_response(f"{basename}_{stamp}.csv", header, rows)
