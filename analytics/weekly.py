"""The weekly report by email: last week's sales and profit per marketplace against the week before,
with the report per product attached as XLSX. Recipients: settings.ANALYTICS_WEEKLY_REPORT_RECIPIENTS."""

from __future__ import annotations

import io
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _

from analytics.exports import write_workbook
from analytics.period import Period, today
from analytics.profit import profit_report
from analytics.tables import chart_rows, profit_sheets
from core.files import XLSX_CONTENT_TYPE
from core.templatetags.formatting import format_money


def last_week() -> Period:
    """The seven days up to yesterday (Moscow)."""
    end = today() - timedelta(days=1)
    return Period(end - timedelta(days=6), end, 7)


def weekly_message(period: Period) -> EmailMessage:
    now = profit_report(period, "marketplace")
    before = {g.key: g.figures for g in profit_report(period.previous(), "marketplace").groups}
    lines = [_("Sales and profit from %(start)s to %(end)s, against the week before.")
             % {"start": period.start.strftime("%d.%m.%Y"), "end": period.end.strftime("%d.%m.%Y")}, ""]
    for group in [*now.groups, None]:
        figures = group.figures if group else now.total
        label = group.label if group else _("Total")
        previous = before.get(group.key) if group else None
        lines.append(_("%(label)s: orders %(orders)s, revenue %(revenue)s, paid %(paid)s, profit %(profit)s")
                     % {"label": label, "orders": figures.orders, "revenue": format_money(figures.predicted),
                        "paid": format_money(figures.paid), "profit": format_money(figures.profit)})
        if previous is not None:
            lines.append("  " + _("the week before: orders %(orders)s, profit %(profit)s")
                         % {"orders": previous.orders, "profit": format_money(previous.profit)})
    by_product = profit_report(period, "product")
    buffer = io.BytesIO()
    write_workbook(buffer, profit_sheets(by_product, chart_rows(period, "")), chart_sheet=1)
    message = EmailMessage(
        subject=_("Prilavok: the week from %(start)s to %(end)s")
        % {"start": period.start.strftime("%d.%m"), "end": period.end.strftime("%d.%m.%Y")},
        body="\n".join(lines), to=list(settings.ANALYTICS_WEEKLY_REPORT_RECIPIENTS),
    )
    message.attach(f"profit_{period.start}_{period.end}.xlsx", buffer.getvalue(), XLSX_CONTENT_TYPE)
    return message


def send_weekly_report() -> int:
    """Mail last week's report to the recipients in the settings; returns how many were mailed."""
    recipients = list(getattr(settings, "ANALYTICS_WEEKLY_REPORT_RECIPIENTS", []))
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        weekly_message(last_week()).send()
    return len(recipients)
