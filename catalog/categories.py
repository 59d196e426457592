"""Marketplace category dictionaries: which ones the seller's cards need, and storing them.

A seller uses tens to hundreds of categories out of the marketplaces' tens of thousands, so only
those are fetched (integrations' categories stream), and each is refreshed once a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import Category, CategoryAttribute, Listing
from integrations.base import CategoryDTO

# A little under the stream's daily interval: a run that starts a few seconds early (the scheduler's
# slack) must still find yesterday's dictionaries stale.
MAX_AGE = timedelta(hours=23)


def categories_to_fetch(account_id: int, marketplace: str, *, max_age: timedelta = MAX_AGE) -> list[str]:
    """Category ids the account's cards use whose dictionary is missing or older than `max_age`."""
    used = (
        Listing.objects.filter(account_id=account_id).exclude(category_id="")
        .order_by().values_list("category_id", flat=True).distinct()
    )
    fresh = Category.objects.filter(
        marketplace=marketplace, fetched_at__gte=timezone.now() - max_age
    ).values_list("external_id", flat=True)
    return sorted(set(used) - set(fresh.filter(external_id__in=used)))


@transaction.atomic
def ingest_categories(marketplace: str, categories: Sequence[CategoryDTO]) -> tuple[int, int]:
    """Store fetched dictionaries, replacing each category's characteristics. Returns (created, updated)."""
    if not categories:
        return 0, 0
    now = timezone.now()
    by_id = {c.external_id: c for c in categories}
    existing = set(
        Category.objects.filter(marketplace=marketplace, external_id__in=by_id).values_list("external_id", flat=True)
    )
    Category.objects.bulk_create(
        [Category(marketplace=marketplace, external_id=c.external_id, name=c.name[:300], path=c.path[:1000],
                  fetched_at=now) for c in by_id.values()],
        update_conflicts=True, unique_fields=["marketplace", "external_id"],
        update_fields=["name", "path", "fetched_at"],
    )
    pks = dict(
        Category.objects.filter(marketplace=marketplace, external_id__in=by_id).values_list("external_id", "pk")
    )
    CategoryAttribute.objects.filter(category_id__in=pks.values()).delete()
    CategoryAttribute.objects.bulk_create([
        CategoryAttribute(
            category_id=pks[c.external_id], external_id=a.external_id[:100], name=a.name[:300], required=a.required,
            kind=a.kind[:40], max_length=a.max_length or None, max_values=a.max_values or None, values=list(a.values),
        )
        for c in by_id.values()
        for a in {a.external_id: a for a in c.attributes}.values()  # one row per characteristic
    ])
    return len(by_id) - len(existing), len(existing)

