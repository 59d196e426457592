"""Recompute the listing checks: `manage.py check_listings [--account NAME_OR_ID]`.

The listings stream checks each page it stores and the categories stream the cards of each
dictionary it refreshes; this command rechecks everything at once (after the rules or the
forbidden-word list change, or nightly to settle duplicates whose partner changed its title).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Avg, Count, Q

from catalog.checks import check_all_listings
from catalog.models import ListingCheck
from integrations.models import MarketplaceAccount


class Command(BaseCommand):
    help = "Recompute the quality score and the list of fixes of every listing (or one account's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", default="", help="Account name or id (default: every account).")

    def handle(self, *args: Any, **options: Any) -> None:
        account_id = self._account_id(options["account"]) if options["account"] else None
        written = check_all_listings(account_id=account_id)
        checks = ListingCheck.objects.all()
        if account_id is not None:
            checks = checks.filter(listing__account_id=account_id)
        summary = checks.aggregate(average=Avg("score"), with_problems=Count("pk", filter=Q(problem_count__gt=0)))
        average = summary["average"]
        self.stdout.write(
            f"Checked {written} listings; {summary['with_problems']} with problems; "
            f"average score {average:.0f}." if average is not None else f"Checked {written} listings."
        )

    def _account_id(self, name: str) -> int:
        account = MarketplaceAccount.objects.filter(Q(name=name) | Q(pk=int(name) if name.isdigit() else None)).first()
        if account is None:
            raise CommandError(f"No marketplace account {name!r}.")
        return account.pk
