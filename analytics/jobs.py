"""Reports over a long period, built in the background: a ReportJob row, a Celery task that fills
it with the file (progress on the row as it goes), and a page that polls it and offers the download."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from analytics.exports import write_workbook
from analytics.models import ReportJob
from analytics.tables import report_sheets
from core.files import csv_lines

KINDS = ("profit", "abc")  # the reports the API builds
# ... and the advertising report's long exports, asked for from its page.
JOB_KINDS = (*KINDS, "ads")
FORMATS = ("xlsx", "csv")
# The task that runs build(), sent by its registered name: analytics.tasks imports this module.
BUILD_REPORT_TASK = "analytics.build_report"  # analytics.tasks.build_report


def start_report_job(user: Any, kind: str, fmt: str, params: Mapping[str, str]) -> ReportJob:
    """Queue the report; the task is sent once the row is committed."""
    if kind not in JOB_KINDS or fmt not in FORMATS:
        raise ValueError(f"unknown report {kind}.{fmt}")
    job = ReportJob.objects.create(user=user, kind=kind, fmt=fmt, params=dict(params))
    transaction.on_commit(lambda: current_app.tasks[BUILD_REPORT_TASK].delay(job.pk))
    return job


def _progress(job: ReportJob, percent: int, **fields: Any) -> None:
    ReportJob.objects.filter(pk=job.pk).update(progress=percent, **fields)


def build(job_id: int) -> None:
    job = ReportJob.objects.get(pk=job_id)
    if job.status == ReportJob.Status.DONE:
        return  # a redelivered message: the file is there
    _progress(job, 5, status=ReportJob.Status.RUNNING, error="")
    try:
        stem, sheets, chart_sheet = report_sheets(job.kind, job.params)
        _progress(job, 60)
        buffer = io.BytesIO()
        if job.fmt == "xlsx":
            write_workbook(buffer, sheets, chart_sheet)
        else:
            _title, header, rows = sheets[0]
            buffer.write("".join(csv_lines(header, rows)).encode("utf-8"))
        _progress(job, 100, status=ReportJob.Status.DONE, content=buffer.getvalue(),
                  filename=f"{stem}.{job.fmt}", finished_at=timezone.now())
    except Exception as exc:
        _progress(job, 0, status=ReportJob.Status.FAILED, error=type(exc).__name__, finished_at=timezone.now())
        raise
