"""Admin page of the advertising statistics (analytics.AdSpendDaily): read-only, like the other
roll-ups (the `ads` sync stream writes it). Registered from AnalyticsConfig.ready."""

from __future__ import annotations

from django.contrib import admin

from analytics.models import AdSpendDaily
from analytics.rollup_admin import _ReadOnly


@admin.register(AdSpendDaily)
class AdSpendDailyAdmin(_ReadOnly):
    list_display = ["day", "account", "campaign_id", "item_ref", "offer_id", "spend", "views", "clicks", "orders",
                    "currency"]
    # Exact article only; the unique key serves the account's days.
    search_fields = ["=offer_id"]
    raw_id_fields = ["listing"]
