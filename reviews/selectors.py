"""Reads for the reviews page: unanswered first, newest first within each group."""

from __future__ import annotations

from django.db.models import QuerySet

from reviews.models import Review


def review_list(*, marketplace: str = "", rating: int | None = None, answered: bool | None = None) -> QuerySet[Review]:
    reviews = Review.objects.select_related("account", "listing").order_by("is_answered", "-published_at", "-id")
    if marketplace:
        reviews = reviews.filter(account__marketplace=marketplace)
    if rating is not None:
        reviews = reviews.filter(rating=rating)
    if answered is not None:
        reviews = reviews.filter(is_answered=answered)
    return reviews
