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

from core.audit import audit_record
from core.masking import mask_secrets
from core.models import AuditEvent
from integrations import outbox
from integrations.models import OutboxChange
from reviews import alerts
from reviews.models import Alert, Answer, Question, ReplyTemplate, Review

MAX_ANSWER_LENGTH = 5000  # the strictest of the three platforms' limits for an answer text
# {author} is the buyer's name where the marketplace gives one (WB and YM reviews, Ozon and YM
# questions); {buyer} is the same; {product} the product's name, else the card's title.
_PLACEHOLDER = re.compile(r"\{(author|buyer|product)\}")
VARIABLES = ("author", "buyer", "product")
# Anything that looks like a variable: {name}, { product }; a typo would reach the buyer as written.
_ANY_PLACEHOLDER = re.compile(r"\{\s*(\w+)\s*\}")
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


def unknown_variables(text: str) -> list[str]:
    """The {names} in a template's text that are not among VARIABLES (they would be sent as written)."""
    found = [m.group(0) for m in _ANY_PLACEHOLDER.finditer(text) if m.group(0)[1:-1] not in VARIABLES]
    return list(dict.fromkeys(found))


EXAMPLE_BUYER = "Анна"
EXAMPLE_PRODUCT = "Кружка керамическая, 350 мл"


def render_example(template: ReplyTemplate) -> str:
    """The template for an example buyer and product (the templates page shows what buyers read)."""
    example = Review(author=EXAMPLE_BUYER, offer_id=EXAMPLE_PRODUCT)
    return render_template(template, example)


def template_text(template: ReplyTemplate, key: str) -> tuple[str, str]:
    """The template filled in for one inbox item, for the answer form to edit: (text, "") or
    ("", why the template does not fit)."""
    parsed = _parse_keys([key])
    target = _targets(parsed, lock=False).get(key)
    if target is None:
        return "", _("no such review or question")
    if refusal := template_refusal(template, target):
        return "", refusal
    return render_template(template, target), ""


def template_refusal(template: ReplyTemplate, target: Review | Question) -> str:
    """Why this template does not fit this review or question ("" when it does)."""
    if unknown := unknown_variables(template.text):
        return _("the template has an unknown variable %(names)s") % {"names": ", ".join(unknown)}
    if "{product}" in template.text and not _product_name(target):
        return _("the product's name is unknown for {product}")
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
        answer = Answer.objects.create(
            **{_kind(target): target}, text=text, template=template, outbox=change, created_by=_user(user)
        )
        _audit([answer], [("", target, text)], template, user)
        return answer


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


def _targets(parsed: dict[str, tuple[str, int] | None], *, lock: bool) -> dict[str, Review | Question]:
    targets: dict[str, Review | Question] = {}
    for kind, model in (("review", Review), ("question", Question)):
        ids = sorted(ref[1] for ref in parsed.values() if ref is not None and ref[0] == kind)
        if not ids:
            continue
        rows = model.objects.select_related("account", "listing__product").filter(pk__in=ids).order_by("pk")
        if lock:
            rows = rows.select_for_update(of=("self",))
        targets |= {f"{kind}:{row.pk}": row for row in rows}
    return targets


@dataclass(frozen=True)
class Decision:
    key: str
    target: Review | Question | None
    text: str  # the answer it would get, "" when refused
    reason: str  # why it is refused, "" when accepted


def _decide(
    parsed: dict[str, tuple[str, int] | None], targets: dict[str, Review | Question], text: str,
    template: ReplyTemplate | None,
) -> list[Decision]:
    busy = _in_flight(list(targets.values()))
    decisions = []
    for key in parsed:  # each selected item once, in order
        target = targets.get(key)
        reason = ""
        if target is None:
            reason = _("no such review or question")
        elif target.is_answered:
            reason = _("already answered on the marketplace")
        elif key in busy:
            reason = busy[key]
        answer_text = ""
        if not reason and target is not None:
            try:
                answer_text = _answer_text(target, text, template)
            except AnswerError as error:
                reason = str(error)
        decisions.append(Decision(key, target, answer_text, reason))
    return decisions


def preview_many(keys: Sequence[str], text: str, template: ReplyTemplate | None = None) -> list[Decision]:
    """What answer_many would do with this selection, writing nothing: per item, the text it would
    send or the reason it would be refused."""
    parsed = _parse_keys(keys)
    return _decide(parsed, _targets(parsed, lock=False), text, template)


def answer_many(
    keys: Sequence[str], text: str, user: Any, template: ReplyTemplate | None = None
) -> list[BulkAnswerResult]:
    """Answer a selection of reviews and questions with one text, or one template rendered for
    each (its buyer name and product). One result per key, in order: an answer queued through the
    outbox, or the reason it was refused (already answered, an answer in flight, the template does
    not fit, unknown item). The accepted answers are written in one transaction, with one outbox
    batch and one push per account, and an audit row each; the selected rows are locked, so two
    managers answering the same selection at once cannot both answer an item."""
    parsed = _parse_keys(keys)
    results: dict[str, BulkAnswerResult] = {}
    with transaction.atomic():
        decisions = _decide(parsed, _targets(parsed, lock=True), text, template)
        accepted: dict[int, list[tuple[str, Review | Question, str]]] = defaultdict(list)
        for decision in decisions:
            if decision.reason or decision.target is None:
                results[decision.key] = BulkAnswerResult(decision.key, None, decision.reason)
            else:
                accepted[decision.target.account_id].append((decision.key, decision.target, decision.text))
        for items in accepted.values():
            account = items[0][1].account
            changes = outbox.record_changes(account, [_change(t, answer) for _k, t, answer in items], user=user)
            answers = Answer.objects.bulk_create([
                Answer(**{_kind(t): t}, text=answer, template=template, outbox=change, created_by=_user(user))
                for (_k, t, answer), change in zip(items, changes, strict=True)
            ])
            _audit(answers, items, template, user)
            for (key, _t, _a), answer_row in zip(items, answers, strict=True):
                results[key] = BulkAnswerResult(key, answer_row)
    return [results[key] for key in parsed]


def answer_one(key: str, text: str, user: Any, template: ReplyTemplate | None = None) -> BulkAnswerResult:
    """The inbox's inline answer: one item, refused for the same reasons as a bulk answer (an answer
    already on its way included, so a double click sends one)."""
    return answer_many([key], text, user, template)[0]


def resend_answer(key: str, user: Any) -> BulkAnswerResult:
    """"Send again" on an item whose newest answer was not delivered (failed: back in the queue) or
    was rejected by the marketplace (its text sent as a new answer, e.g. after the marketplace's
    moderation was asked about it)."""
    parsed = _parse_keys([key])
    ref = parsed[key]
    if ref is None:
        return BulkAnswerResult(key, None, _("no such review or question"))
    kind, pk = ref
    newest = (
        Answer.objects.select_related("outbox", "template").filter(**{f"{kind}_id": pk}).order_by("-id").first()
    )
    status = newest.outbox.status if newest is not None and newest.outbox is not None else ""
    if newest is None or status not in (OutboxChange.Status.FAILED, OutboxChange.Status.REJECTED):
        return BulkAnswerResult(key, None, _("there is no undelivered answer to send again"))
    if status == OutboxChange.Status.REJECTED:
        return answer_one(key, newest.text, user, newest.template)
    assert newest.outbox is not None
    try:
        outbox.retry_change(newest.outbox, user=user)
    except outbox.OutboxError as error:
        return BulkAnswerResult(key, None, str(error))
    return BulkAnswerResult(key, newest)


def _audit(
    answers: Sequence[Answer], items: Sequence[tuple[str, Review | Question, str]], template: ReplyTemplate | None,
    user: Any,
) -> None:
    """One audit row per answer, in one insert (a bulk answer costs the same queries for 2 or 50)."""
    actor = _user(user)
    events = []
    for row, (_key, target, text) in zip(answers, items, strict=True):
        event = AuditEvent(
            actor=actor,
            action=f"{_kind(target)}.answer",
            object_type=target._meta.label_lower,
            object_id=str(target.pk),
            old=mask_secrets({"answer_text": target.answer_text}) if target.answer_text else None,
            new=mask_secrets({"answer_text": text}),
            details={"answer": row.pk, "change": row.outbox_id, "template": template.pk if template else None},
        )
        event._fill_from_context()  # what save() does: the channel, IP and agent of the request
        events.append(event)
    AuditEvent.objects.bulk_create(events)


def resolve_alert(alert_id: int, user: Any) -> Alert:
    """A manager has seen to an alert: it leaves the inbox's header (kept, with who and when)."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.resolved_at is None:
            alerts.resolve(alert, user)
            audit_record(action="review_alert.resolve", actor=user, obj=alert, details={"kind": alert.kind})
    return alert


def _user(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None
