"""Reviews as the sync stores them: through the reviews ingest (its alerts), then the flags the
reviews stream computes after its run."""

from __future__ import annotations

import itertools
from datetime import datetime

from catalog.models import Listing
from integrations.base import ReviewDTO
from integrations.models import MarketplaceAccount
from integrations.sync.streams import STREAMS
from reviews.ingest import ingest_reviews
from reviews.models import Review

_ids = itertools.count(1)


def review_dto(listing: Listing, published_at: datetime, *, rating: int = 5, text: str = "", author: str = "",
               **fields: object) -> ReviewDTO:
    return ReviewDTO(
        external_id=str(fields.pop("external_id", f"r-{next(_ids)}")), published_at=published_at, rating=rating,
        text=text, author=author, offer_id=listing.offer_id, sku=listing.external_id, **fields,  # type: ignore[arg-type]
    )


def ingest(account: MarketplaceAccount, *dtos: ReviewDTO) -> list[Review]:
    ingest_reviews(account.pk, list(dtos))
    after_run = STREAMS["reviews"].after_run
    assert after_run is not None
    after_run(account.pk)
    external_ids = [d.external_id for d in dtos]
    stored = {r.external_id: r for r in Review.objects.filter(account=account, external_id__in=external_ids)}
    return [stored[d.external_id] for d in dtos]
