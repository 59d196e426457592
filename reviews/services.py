"""Answers to reviews and questions: an Answer row plus the outbox row that delivers it.

The review or question is marked answered when the next sync reads the published answer back.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from integrations import outbox
from integrations.models import OutboxChange
from reviews.models import Answer, Question, ReplyTemplate, Review

MAX_ANSWER_LENGTH = 5000  # the strictest of the three platforms' limits for an answer text
_PLACEHOLDER = re.compile(r"\{(author|product)\}")


class AnswerError(ValueError):
    """An answer that cannot be sent; the message says why."""


def _product_name(target: Review | Question) -> str:
    listing = target.listing
    if listing is not None:
        if listing.product is not None and listing.product.name:
            return listing.product.name
        if listing.title:
            return listing.title
    return target.offer_id or ""


def render_template(template: ReplyTemplate, review: Review | Question) -> str:
    """Fill {author} and {product}. Only these two names are replaced (no str.format, so a
    template can never reach attributes); other braces are kept as written."""
    values = {"author": review.author.strip() or "покупатель", "product": _product_name(review)}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template.text).strip()


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AnswerError("the answer is empty")
    if len(text) > MAX_ANSWER_LENGTH:
        raise AnswerError(f"the answer is longer than {MAX_ANSWER_LENGTH} characters")
    return text


def answer_review(review: Review, text: str, user: Any, template: ReplyTemplate | None = None) -> Answer:
    """Publish an answer to a review; with a template and no text, the template is rendered."""
    if template is not None and not (text or "").strip():
        text = render_template(template, review)
    text = _clean(text)
    with transaction.atomic():
        change = outbox.record_change(
            review.account,
            OutboxChange.Kind.REVIEW_ANSWER,
            review.external_id,
            {"review_external_id": review.external_id, "text": text},
            previous={"answer_text": review.answer_text} if review.answer_text else {},
            user=user,
            listing_id=review.listing_id,
        )
        return Answer.objects.create(
            review=review, text=text, template=template, outbox=change, created_by=_user(user)
        )


def answer_question(question: Question, text: str, user: Any, template: ReplyTemplate | None = None) -> Answer:
    if template is not None and not (text or "").strip():
        text = render_template(template, question)
    text = _clean(text)
    with transaction.atomic():
        change = outbox.record_change(
            question.account,
            OutboxChange.Kind.QUESTION_ANSWER,
            question.external_id,
            {"question_external_id": question.external_id, "text": text, "sku": question.sku},
            previous={"answer_text": question.answer_text} if question.answer_text else {},
            user=user,
            listing_id=question.listing_id,
        )
        return Answer.objects.create(
            question=question, text=text, template=template, outbox=change, created_by=_user(user)
        )


def _user(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None
