"""Reviews and questions from every marketplace, our answers and reply templates."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Lower
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class Review(models.Model):
    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="reviews", db_index=False,
    )
    external_id = models.CharField(max_length=100)
    # Indexed with published_at below (a card's reviews by time: bursts, rating windows).
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, db_index=False)
    offer_id = models.CharField(max_length=255, blank=True)
    sku = models.CharField(max_length=100, blank=True, help_text="Marketplace item id the review is on.")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True)
    pros = models.TextField(blank=True)
    cons = models.TextField(blank=True)
    author = models.CharField(max_length=200, blank=True)
    photos_count = models.PositiveSmallIntegerField(default=0)
    published_at = models.DateTimeField()
    raw_status = models.CharField(max_length=64, blank=True)
    is_answered = models.BooleanField(default=False)
    answer_text = models.TextField(blank=True, help_text="The published answer as the marketplace shows it.")
    # Suspicious-review checks (reviews.flags): the hash of the normalised text ("" when too short
    # to mean anything), and {flag code: its evidence}; the reason is worded at display time.
    # Database defaults too: the ingest inserts with SQL, and the checks fill these after it.
    text_hash = models.CharField(max_length=32, blank=True, default="", db_default="")
    flags = models.JSONField(default=dict, db_default=Value({}, output_field=models.JSONField()), blank=True)
    # MinHash LSH bands of the normalised text (reviews.flags), None when too short to compare.
    text_bands = ArrayField(models.BigIntegerField(), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_review")]
        indexes = [
            # The reviews list (reviews.selectors.REVIEW_SORTS): one index per offered sort.
            models.Index(fields=["is_answered", "-published_at", "-id"], name="review_sort_unanswered"),
            models.Index(fields=["-published_at", "-id"], name="review_sort_newest"),
            models.Index(fields=["rating"]),
            # The inbox (reviews.inbox): its order under each filter it offers, as an index.
            models.Index(fields=["account", "is_answered", "-published_at", "-id"], name="review_inbox_account"),
            models.Index(fields=["rating", "is_answered", "-published_at", "-id"], name="review_inbox_rating"),
            models.Index(fields=["is_answered", "-published_at", "-id"], condition=~Q(flags={}),
                         name="review_inbox_flagged"),
            models.Index(fields=["listing", "-published_at"], name="review_listing_published"),
            models.Index(fields=["text_hash"], condition=~Q(text_hash=""), name="review_text_hash"),
            # No pending list: every ingested page probes it, and a long pending list is read per probe.
            GinIndex(fields=["text_bands"], name="review_text_bands", fastupdate=False),
            models.Index(F("account"), Lower("author"), F("published_at"), name="review_author_published"),
            # Only reviews stored before their listing, which the listings sync links later.
            models.Index(fields=["account", "offer_id"], condition=Q(listing__isnull=True),
                         name="review_awaiting_listing"),
            models.Index(fields=["account", "sku"], condition=Q(listing__isnull=True),
                         name="review_sku_awaiting_listing"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.external_id}"


class Question(models.Model):
    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="questions", db_index=False,
    )
    external_id = models.CharField(max_length=100)
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL)
    offer_id = models.CharField(max_length=255, blank=True)
    sku = models.CharField(max_length=100, blank=True)
    text = models.TextField()
    author = models.CharField(max_length=200, blank=True)
    published_at = models.DateTimeField()
    raw_status = models.CharField(max_length=64, blank=True)
    is_answered = models.BooleanField(default=False)
    answer_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["-published_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_question")]
        indexes = [
            models.Index(fields=["is_answered", "-published_at"]),
            models.Index(fields=["account", "is_answered", "-published_at", "-id"], name="question_inbox_account"),
            models.Index(fields=["account", "offer_id"], condition=Q(listing__isnull=True),
                         name="question_awaiting_listing"),
            models.Index(fields=["account", "sku"], condition=Q(listing__isnull=True),
                         name="question_sku_awaiting_listing"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Answer(models.Model):
    """An answer written here; delivered through its outbox row."""

    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField()
    template = models.ForeignKey("ReplyTemplate", null=True, blank=True, on_delete=models.SET_NULL)
    outbox = models.OneToOneField("integrations.OutboxChange", null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(review__isnull=False) ^ models.Q(question__isnull=False),
                name="answer_has_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]


class ReplyTemplate(TimeStampedModel):
    name = models.CharField(max_length=200)
    text = models.TextField(help_text="May use {author} and {product}.")
    min_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    max_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    for_questions = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """Something about the customers' feedback a manager should look at; notification-ready (kind,
    severity, subject, message, created, resolved). One alert per subject and period: `key`."""

    class Kind(models.TextChoices):
        LOW_RATING = "low_rating", _("Low rating")
        RATING_DROP = "rating_drop", _("Rating dropping")

    class Severity(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        CRITICAL = "critical", _("Critical")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    # What the alert is about: a review (low rating) or a product, else its card (rating drop).
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.CASCADE, db_index=False)
    listing = models.ForeignKey("catalog.Listing", null=True, blank=True, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=100, unique=True, help_text="Deduplication: the subject and period.")
    details = models.JSONField(default=dict, blank=True, help_text="The figures the message is worded from.")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at"], condition=Q(resolved_at__isnull=True), name="alert_open"),
            models.Index(fields=["product", "-created_at"], name="alert_product"),
            models.Index(fields=["listing", "-created_at"], name="alert_listing"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"

    @property
    def message(self) -> str:
        """The alert in words, from its figures (`details`), in the active language."""
        details = self.details
        if self.kind == Alert.Kind.LOW_RATING:
            return gettext("A new review rated %(rating)s★.") % {"rating": details.get("rating")}
        current = number_format(Decimal(details["current"]), 2)
        if details.get("previous") is not None and Decimal(details["previous"]) > Decimal(details["current"]):
            return gettext("The average rating over %(days)s days fell to %(current)s from %(previous)s.") % {
                "days": details["days"], "current": current,
                "previous": number_format(Decimal(details["previous"]), 2),
            }
        return gettext("The average rating over %(days)s days is %(current)s, under %(floor)s.") % {
            "days": details["days"], "current": current, "floor": number_format(Decimal(details["floor"]), 1),
        }
