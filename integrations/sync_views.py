"""The syncs of one account in the settings (Administrator only): each stream's state, recent runs with their
errors in words, and "sync now" with the progress refreshed live while a run is going."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.roles import ADMINS, require_role
from integrations.models import MarketplaceAccount
from integrations.sync.streams import STREAM_ORDER
from integrations.sync_status import SyncRequestError, recent_runs, request_sync, stream_statuses


def _context(account: MarketplaceAccount) -> dict[str, object]:
    streams = stream_statuses(account)
    return {
        "account": account,
        "streams": streams,
        "runs": recent_runs(account),
        "running": any(s.running for s in streams),
    }


@require_role(*ADMINS)
def account_syncs(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(MarketplaceAccount, pk=pk)
    template = "integrations/_sync_status.html" if request.headers.get("HX-Request") else "integrations/syncs.html"
    return render(request, template, _context(account))


@require_POST
@require_role(*ADMINS)
def account_sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(MarketplaceAccount, pk=pk)
    stream = request.POST.get("stream", "")
    streams = list(STREAM_ORDER) if stream == "all" else [stream]
    try:
        queued = request_sync(account, streams, full=request.POST.get("full") == "1", actor=request.user)
    except SyncRequestError as exc:
        messages.error(request, str(exc))
    else:
        if queued:
            said = _("Sync queued: %(count)d stream(s). Progress shows below.") % {"count": len(queued)}
            messages.success(request, said)
        else:
            messages.info(request, _("Already running; progress shows below."))
    return redirect("account_syncs", pk=account.pk)
