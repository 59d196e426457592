"""Answers to reviews and questions: an Answer row plus the outbox row that delivers it.

The review or question is marked answered when the next sync reads the published answer back.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from integrations import outbox
from integrations.models import OutboxChange
from reviews.models import Answer, Question, ReplyTemplate, Review

MAX_ANSWER_LENGTH = 5000  # the strictest of the three platforms' limits for an answer text
# {author} is the buyer's name where the marketplace gives one (WB and YM reviews, Ozon and YM
# questions); {buyer} is the same; {product} the product's name, else the card's title.
_PLACEHOLDER = re.compile(r"\{(author|buyer|product)\}")
# "{author}, спасибо…" with no name to put in: the greeting goes, the sentence stays.
_NAMELESS_GREETING = re.compile(r"(^|[.!?]\s+)\{(?:author|buyer)\}\s*[,!]\s*(\w?)")
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)$")
ANONYMOUS_BUYER = "покупатель"


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
    """Fill {author} / {buyer} and {product}. Only these names are replaced (no str.format, so a
    template can never reach attributes); other braces are kept as written.

    Ozon reviews and WB questions carry no buyer name: a greeting made of the name alone
    ("{author}, спасибо!") is dropped ("Спасибо!"); elsewhere the name reads "покупатель"
    (capitalised at the start of a sentence)."""
    author = review.author.strip()
    text = template.text
    if not author:
        text = _NAMELESS_GREETING.sub(lambda m: m.group(1) + m.group(2).upper(), text)

    def fill(match: re.Match[str]) -> str:
        if match.group(1) == "product":
            return _product_name(review)
        if author:
            return author
        starts_sentence = _SENTENCE_START.search(match.string[: match.start()]) is not None
        return ANONYMOUS_BUYER.capitalize() if starts_sentence else ANONYMOUS_BUYER

    return _PLACEHOLDER.sub(fill, text).strip()


def template_refusal(template: ReplyTemplate, target: Review | Question) -> str:
    """Why this template does not fit this review or question ("" when it does)."""
    if isinstance(target, Question):
        return "" if template.for_questions else _("the template is for reviews, not questions")
    if template.for_questions:
        return _("the template is for questions, not reviews")
    rating = target.rating
    if rating is not None and (
        (template.min_rating is not None and rating < template.min_rating)
        or (template.max_rating is not None and rating > template.max_rating)
    ):
        return _("the template is not for a %(rating)s★ review") % {"rating": rating}
    return ""


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AnswerError(_("the answer is empty"))
    if len(text) > MAX_ANSWER_LENGTH:
        raise AnswerError(_("the answer is longer than %(limit)s characters") % {"limit": MAX_ANSWER_LENGTH})
    return text


def _answer_text(target: Review | Question, text: str, template: ReplyTemplate | None) -> str:
    """The text to send: the given one, else the template rendered for this target."""
    if template is not None and not (text or "").strip():
        if refusal := template_refusal(template, target):
            raise AnswerError(refusal)
        text = render_template(template, target)
    return _clean(text)


def _change(target: Review | Question, text: str) -> outbox.NewChange:
    previous = {"answer_text": target.answer_text} if target.answer_text else {}
    if isinstance(target, Review):
        payload: dict[str, Any] = {"review_external_id": target.external_id, "text": text}
        kind = OutboxChange.Kind.REVIEW_ANSWER
    else:
        payload = {"question_external_id": target.external_id, "text": text, "sku": target.sku}
        kind = OutboxChange.Kind.QUESTION_ANSWER
    return outbox.NewChange(kind, target.external_id, payload, previous, target.listing_id)


def _answer(target: Review | Question, text: str, user: Any, template: ReplyTemplate | None) -> Answer:
    text = _answer_text(target, text, template)
    with transaction.atomic():
        change = outbox.record_changes(target.account, [_change(target, text)], user=user)[0]
        return Answer.objects.create(
            **{_kind(target): target}, text=text, template=template, outbox=change, created_by=_user(user)
        )


def answer_review(review: Review, text: str, user: Any, template: ReplyTemplate | None = None) -> Answer:
    """Publish an answer to a review; with a template and no text, the template is rendered."""
    return _answer(review, text, user, template)


def answer_question(question: Question, text: str, user: Any, template: ReplyTemplate | None = None) -> Answer:
    return _answer(question, text, user, template)


# ---------------------------------------------------------------------------------------------
# Bulk answers to a selection of the inbox

# The newest answer written here is still on its way, or delivered and awaiting the read-back
# that marks the item answered: another answer would be a duplicate.
_ON_ITS_WAY = (OutboxChange.Status.PENDING, OutboxChange.Status.SENDING, OutboxChange.Status.SENT)


@dataclass(frozen=True)
class BulkAnswerResult:
    key: str  # the item as selected: "review:12", "question:7"
    answer: Answer | None  # written and queued for delivery, or None when refused
    reason: str = ""  # why it was refused, for the page

    @property
    def ok(self) -> bool:
        return self.answer is not None


def _kind(target: Review | Question) -> str:
    return "review" if isinstance(target, Review) else "question"


def _parse_keys(keys: Sequence[str]) -> dict[str, tuple[str, int] | None]:
    parsed: dict[str, tuple[str, int] | None] = {}
    for key in keys:
        kind, _sep, pk = key.partition(":")
        parsed[key] = (kind, int(pk)) if kind in ("review", "question") and pk.isdigit() else None
    return parsed


def _in_flight(targets: Sequence[Review | Question]) -> dict[str, str]:
    """Why a target's newest answer written here forbids another, by key (one query per kind)."""
    busy: dict[str, str] = {}
    for kind in ("review", "question"):
        ids = [t.pk for t in targets if _kind(t) == kind]
        if not ids:
            continue
        newest = (
            Answer.objects.filter(**{f"{kind}_id__in": ids})
            .order_by(f"{kind}_id", "-id")
            .distinct(f"{kind}_id")
            .values_list(f"{kind}_id", "outbox__status", "outbox__confirmed_at")
        )
        for pk, status, confirmed_at in newest:
            if status in _ON_ITS_WAY:
                busy[f"{kind}:{pk}"] = _("an answer is already on its way")
            elif status == OutboxChange.Status.APPLIED and confirmed_at is None:
                busy[f"{kind}:{pk}"] = _("an answer was delivered; the marketplace has not shown it yet")
    return busy


def answer_many(
    keys: Sequence[str], text: str, user: Any, template: ReplyTemplate | None = None
) -> list[BulkAnswerResult]:
    """Answer a selection of reviews and questions with one text, or one template rendered for
    each (its buyer name and product). One result per key, in order: an answer queued through the
    outbox, or the reason it was refused (already answered, an answer in flight, the template does
    not fit, unknown item). The accepted answers are written in one transaction, with one outbox
    batch and one push per account; the selected rows are locked, so two managers answering the
    same selection at once cannot both answer an item."""
    parsed = _parse_keys(keys)
    results: dict[str, BulkAnswerResult] = {}
    with transaction.atomic():
        targets: dict[str, Review | Question] = {}
        for kind, model in (("review", Review), ("question", Question)):
            ids = sorted(ref[1] for ref in parsed.values() if ref is not None and ref[0] == kind)
            rows = model.objects.select_for_update(of=("self",)).select_related(
                "account", "listing__product"
            ).filter(pk__in=ids).order_by("pk")
            targets |= {f"{kind}:{row.pk}": row for row in rows}
        busy = _in_flight(list(targets.values()))
        accepted: dict[int, list[tuple[str, Review | Question, str]]] = defaultdict(list)
        for key in parsed:  # each selected item once, in order
            target = targets.get(key)
            reason = ""
            if target is None:
                reason = _("no such review or question")
            elif target.is_answered:
                reason = _("already answered on the marketplace")
            elif key in busy:
                reason = busy[key]
            if not reason and target is not None:
                try:
                    answer_text = _answer_text(target, text, template)
                except AnswerError as error:
                    reason = str(error)
                else:
                    accepted[target.account_id].append((key, target, answer_text))
                    continue
            results[key] = BulkAnswerResult(key, None, reason)
        for items in accepted.values():
            account = items[0][1].account
            changes = outbox.record_changes(account, [_change(t, answer) for _k, t, answer in items], user=user)
            answers = Answer.objects.bulk_create([
                Answer(**{_kind(t): t}, text=answer, template=template, outbox=change, created_by=_user(user))
                for (_k, t, answer), change in zip(items, changes, strict=True)
            ])
            for (key, _t, _a), answer_row in zip(items, answers, strict=True):
                results[key] = BulkAnswerResult(key, answer_row)
    return [results[key] for key in parsed]


def _user(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None
