"""The beat schedule, in code. Each entry dispatches the streams of every enabled account that are
due by that account's interval (MarketplaceAccount.sync_intervals, minutes per stream, editable by
an admin; defaults in integrations/sync/streams.py). A tick only looks; a stream runs when due, so
an interval shorter than its tick is rounded up to the tick.

Every entry expires before its next tick: ticks missed during an outage are dropped, not piled up.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

DISPATCH = "integrations.dispatch_due_syncs"

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Orders every minute (the default interval per account): new FBS orders must be shipped on time.
    "sync-orders": {
        "task": DISPATCH,
        "schedule": crontab(minute="*"),
        "args": (["orders"],),
        "options": {"expires": 55},
    },
    # Returns, sales (WB buy-outs and returns), reviews and questions (defaults 30/30/15/15 min):
    # managers answer within the hour.
    "sync-feedback-and-returns": {
        "task": DISPATCH,
        "schedule": crontab(minute="*/5"),
        "args": (["returns", "sales", "reviews", "questions"],),
        "options": {"expires": 4 * 60},
    },
    # Catalogue and prices hourly, stocks every 30 min, promotions every 6 h, warehouses daily.
    "sync-catalogue-and-prices": {
        "task": DISPATCH,
        "schedule": crontab(minute="*/10"),
        "args": (["warehouses", "listings", "prices", "stocks", "promotions"],),
        "options": {"expires": 9 * 60},
    },
    # Finance, fee rates and the category dictionaries of the listing checks daily (default 24 h), ad
    # statistics every 6 h (integrations/ads.py); an hourly tick so an admin can ask for a shorter interval.
    "sync-finance": {
        "task": DISPATCH,
        "schedule": crontab(minute=17),
        "args": (["finance", "fees", "categories", "ads"],),
        "options": {"expires": 50 * 60},
    },
    # Runs whose worker died (no heartbeat) are marked abandoned, freeing their lease.
    "reclaim-stale-sync-runs": {
        "task": "integrations.reclaim_stale_sync_runs",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Credentials every 6 h: stores token expiry (WB tokens live 180 days) and refusals on the account.
    "check-marketplace-credentials": {
        "task": "integrations.check_all_accounts",
        "schedule": crontab(minute=5, hour="*/6"),
        "options": {"expires": 60 * 60},
    },
    # Outbox (tasks in integrations/push_tasks.py):
    # every minute reclaim rows of dead senders, retry due rows, resolve accepted uploads.
    # Marketplace keys and API tokens expiring soon: one notification per key (integrations/notices.py).
    "notify-expiring-keys": {
        "task": "integrations.check_expiring_keys",
        "schedule": crontab(minute=30, hour=7),
        "options": {"expires": 60 * 60},
    },
    # Scheduled price batches (pricing/push_tasks.py): queued to the outbox within a minute of their time.
    "price-batches": {"task": "pricing.send_due_price_batches", "schedule": 60.0, "options": {"expires": 50}},
    "outbox-sweep": {"task": "integrations.sweep_outbox", "schedule": 60.0, "options": {"expires": 50}},
    # Stock forecast and reorder suggestions (supply/forecast.py), then one "stock-outs ahead" notification a day.
    "refresh-stock-forecast": {
        "task": "supply.refresh_forecasts",
        "schedule": crontab(minute=40),
        "options": {"expires": 50 * 60},
    },
    # Products' ratings dropping (reviews/alerts.py), hourly; the reviews sync checks its own pages too.
    "review-rating-alerts": {
        "task": "reviews.check_rating_drops",
        "schedule": crontab(minute=41),
        "options": {"expires": 50 * 60},
    },
    # Money at risk (pricing/risk.py): YM price quarantine, card floors, then the queue, every 15 min.
    "refresh-money-at-risk": {
        "task": "pricing.refresh_money_at_risk",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Repricing rules (pricing/repricing.py): every enabled rule once per REPRICING_SCHEDULE_MINUTES (default
    # hourly); the tick only looks, and a slot already run is not run again.
    "repricing-rules": {
        "task": "pricing.run_repricing_rules",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # The overview's counts and profits, recomputed ahead of the page views (dashboard/selectors.py warm).
    "warm-overview": {"task": "dashboard.warm_overview", "schedule": 5 * 60.0, "options": {"expires": 4 * 60}},
    # The profit and ABC reports of the presets, recomputed when their inputs changed (analytics/report_cache.py).
    "warm-reports": {"task": "analytics.warm_reports", "schedule": 5 * 60.0, "options": {"expires": 4 * 60}},
    # Last week's sales and profit by email on Monday morning (analytics/weekly.py; recipients in the settings).
    "analytics-weekly-report": {
        "task": "analytics.send_weekly_report",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
        "options": {"expires": 6 * 60 * 60},
    },
    # Reconciliation with what the marketplaces paid (analytics/reconciliation.py): hourly, after the finance
    # tick at :17, only for the accounts whose finance stream ran since (and each account once a day).
    "reconciliation-refresh": {
        "task": "analytics.refresh_reconciliation",
        "schedule": crontab(minute=47),
        "options": {"expires": 50 * 60},
    },
}
