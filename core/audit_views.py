"""The audit trail for administrators: /settings/audit/ (filtered list) and its CSV export."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.audit import AuditFilter, audit_csv_chunks, audit_events
from core.request_context import Channel
from core.roles import ADMINS, require_role

PAGE_SIZE = 100
FILTER_FIELDS = ("action", "actor", "channel", "object_type", "object_id", "since", "until")


@require_role(*ADMINS)
def audit_list(request: HttpRequest) -> HttpResponse:
    criteria = AuditFilter.from_query(request.GET)
    page = Paginator(audit_events(criteria), PAGE_SIZE).get_page(request.GET.get("page"))
    filter_query = urlencode({k: request.GET[k] for k in FILTER_FIELDS if request.GET.get(k)})
    return render(
        request,
        "core/audit.html",
        {
            "page_obj": page,
            "filters": {k: request.GET.get(k, "") for k in FILTER_FIELDS},
            "filter_query": filter_query,
            "channels": Channel.CHOICES,
        },
    )


@require_role(*ADMINS)
def audit_export(request: HttpRequest) -> HttpResponse:
    """The same filter as the list, every matching row, streamed."""
    events = audit_events(AuditFilter.from_query(request.GET)).iterator(chunk_size=2000)
    response = StreamingHttpResponse(audit_csv_chunks(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y-%m-%d}.csv"'
    return cast(HttpResponse, response)  # require_role types views as returning HttpResponse
