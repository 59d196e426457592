"""First-start demo: an admin user and the three sandbox marketplace accounts, synced once."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.models import MarketplaceAccount
from integrations.sandbox import credentials as sandbox
from pricing.demo import seed_demo_economics
from pricing.risk import refresh_all as refresh_money_at_risk_all

DEMO_USER, DEMO_PASSWORD = "admin", "prilavok-demo"


class Command(BaseCommand):
    help = "Create the demo admin and connect the sandbox marketplaces (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8765")
        parser.add_argument("--no-sync", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["sandbox_url"].rstrip("/")
        call_command("create_user", DEMO_USER, role="admin", password=DEMO_PASSWORD)
        accounts = [
            ("ozon", "Ozon (песочница)", ["--client-id", sandbox.OZON_CLIENT_ID, "--api-key", sandbox.OZON_API_KEY,
                                          "--performance-client-id", sandbox.OZON_PERFORMANCE_CLIENT_ID,
                                          "--performance-client-secret", sandbox.OZON_PERFORMANCE_CLIENT_SECRET]),
            ("wildberries", "Wildberries (песочница)", ["--token", sandbox.WB_TOKEN]),
            (
                "yandex_market",
                "Яндекс Маркет (песочница)",
                ["--api-key", sandbox.YM_API_KEY, "--business-id", str(sandbox.YM_BUSINESS_ID)],
            ),
        ]
        for marketplace, name, secrets in accounts:
            call_command("add_account", marketplace, "--name", name, *secrets, "--base-url", f"{base}/{marketplace}")
        if options["no_sync"]:
            return
        failed = []
        for _, name, _ in accounts:
            try:
                # A progress bar only where a person watches; scripts/run's output may be a log file.
                call_command("sync", name, no_progress=not sys.stdout.isatty())
            except (CommandError, SystemExit) as exc:
                failed.append(f"{name}: {exc}")
        # Costs and a tax regime, so margins show on the first start.
        names = [name for _, name, _ in accounts]
        seed_demo_economics(list(MarketplaceAccount.objects.filter(name__in=names)))
        try:  # the money-at-risk queue (YM price quarantine, floors) so /prices/risk/ shows on the first start
            refresh_money_at_risk_all()
        except Exception as exc:  # the scheduled recount retries; the demo itself is ready
            failed.append(f"money at risk: {exc}")
        if failed:
            self.stderr.write("Some demo syncs failed (the scheduled syncs will retry): " + "; ".join(failed))
