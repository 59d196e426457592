"""Recompute the daily sales roll-up from the stored orders and returns (after a restore, a bulk
import, or to check the incremental path): one transaction per account."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import finance_rollup
from analytics.rollup import rebuild
from integrations.models import MarketplaceAccount


class Command(BaseCommand):
    help = "Rebuild analytics.SalesDaily, SalesDayTotal and FinanceDaily from orders, returns and finance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, action="append", help="account id (repeatable; default all)")
        parser.add_argument("--since", help="first day to rebuild, YYYY-MM-DD in Moscow time (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            since = date.fromisoformat(options["since"]) if options["since"] else None
        except ValueError as exc:
            raise CommandError(f"--since: {exc}") from exc
        accounts = MarketplaceAccount.objects.order_by("pk")
        if options["account"]:
            accounts = accounts.filter(pk__in=options["account"])
            missing = set(options["account"]) - set(accounts.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no such account: {', '.join(map(str, sorted(missing)))}")
        for account_id in accounts.values_list("pk", flat=True):
            started = time.perf_counter()
            result = rebuild(account_id, since)
            finance_days = finance_rollup.rebuild(account_id, since)
            self.stdout.write(
                f"account {account_id}: {result.articles} article-days, {result.days} days, "
                f"{finance_days} finance article-days "
                f"in {time.perf_counter() - started:.1f}s"
            )
