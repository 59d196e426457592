"""Celery tasks of reviews: one service call each."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reviews.check_rating_drops", ignore_result=True)  # type: ignore[untyped-decorator]
def check_rating_drops() -> int:
    """Every product's rating windows (the beat, hourly). The reviews sync checks the products of
    each page it stores as it goes (reviews.checks); this catches what only time changes: a
    window's older reviews leaving it."""
    from django.db import transaction

    from reviews import alerts

    with transaction.atomic():
        return alerts.check_rating_drops()
