"""The overview: today and a chosen period per marketplace and in total, against the previous period."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.period import PERIODS, parse_period
from core.roles import EVERYONE, require_role
from dashboard.selectors import overview


@require_role(*EVERYONE)
def overview_page(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    context = {"overview": overview(period), "period": period, "periods": PERIODS}
    return render(request, "dashboard/overview.html", context)
