"""Recompute every review's suspicious-review flags (after changing a REVIEW_FLAG_* setting, or
for reviews stored before the checks existed); with --alerts, also check every product's rating."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from reviews import alerts, flags


class Command(BaseCommand):
    help = "Recompute the suspicious-review flags of all reviews (and, with --alerts, rating-drop alerts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alerts", action="store_true", help="Also raise rating-drop alerts.")

    def handle(self, *args: Any, **options: Any) -> None:
        changed = flags.refresh_flags()  # chunk by chunk, each write committed on its own
        self.stdout.write(f"Flags changed on {changed} review(s).")
        if options["alerts"]:
            with transaction.atomic():
                raised = alerts.check_rating_drops()
            self.stdout.write(f"Rating-drop alerts raised: {raised}.")
