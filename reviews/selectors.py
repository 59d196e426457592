"""Reads for the reviews page: unanswered first, newest first within each group."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.pagination import Sort, Sorts
from reviews.models import Review

# Each sort has its index (reviews.Review.Meta.indexes).
REVIEW_SORTS = Sorts(
    Review,
    [
        Sort("unanswered", _("Unanswered first"), ("is_answered", "-published_at", "-id")),
        Sort("newest", _("Newest first"), ("-published_at", "-id")),
    ],
)


def review_list() -> QuerySet[Review]:
    return Review.objects.select_related("account", "listing")
