"""The overview: per marketplace, its accounts' health and today's counts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.roles import EVERYONE, require_role
from dashboard.selectors import overview_summary


@require_role(*EVERYONE)
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/overview.html", {"summaries": overview_summary()})
