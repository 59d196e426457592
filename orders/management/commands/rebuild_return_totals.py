"""Recompute the per-article return totals (orders.ReturnArticleTotal) from the stored returns: after a
restore or a bulk load made with triggers disabled, or to check that the triggers kept them exact."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from orders.returns import rebuild_article_totals


class Command(BaseCommand):
    help = "Rebuild orders.ReturnArticleTotal (the returns by reason's per-article totals) from the returns."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        result = rebuild_article_totals()
        self.stdout.write(
            f"{result.articles} articles, {result.corrected} corrected, in {time.perf_counter() - started:.1f}s"
        )
