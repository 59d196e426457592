"""What runs on reviews just stored or changed by the ingest: suspicious-review flags, then alerts."""

from __future__ import annotations

from collections.abc import Sequence

from reviews import alerts, flags


def after_reviews_stored(review_ids: Sequence[int]) -> None:
    """Called inside the page's transaction: the flags and alerts land with the page or not at all."""
    if review_ids:
        flags.refresh_flags(review_ids)
        alerts.check_reviews(review_ids)
