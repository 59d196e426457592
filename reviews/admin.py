from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import LargeTableAdmin, SyncedAdmin
from reviews.models import Alert, Answer, Question, ReplyTemplate, Review


class RatingFilter(admin.SimpleListFilter):
    """Fixed choices 1–5: the default filter of a plain integer field lists a DISTINCT over every review."""

    title = _("Rating")
    parameter_name = "rating"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [(str(n), f"{n}★") for n in range(5, 0, -1)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        return queryset.filter(rating=int(self.value())) if self.value() in {"1", "2", "3", "4", "5"} else queryset


@admin.register(Review)
class ReviewAdmin(SyncedAdmin):
    list_display = ["external_id", "account", "rating", "author", "published_at", "is_answered"]
    list_filter = ["is_answered", RatingFilter, "account__marketplace", "account"]
    search_fields = ["^listing__offer_id"]
    list_select_related = ["account"]
    ordering = ["-published_at", "-id"]
    sortable_by = ["published_at"]


@admin.register(Question)
class QuestionAdmin(SyncedAdmin):
    list_display = ["external_id", "account", "author", "published_at", "is_answered"]
    list_filter = ["is_answered", "account__marketplace", "account"]
    search_fields = ["^listing__offer_id"]
    list_select_related = ["account"]


@admin.register(Answer)
class AnswerAdmin(LargeTableAdmin):
    list_display = ["created_at", "review", "question", "created_by", "outbox"]
    list_filter = ["template"]
    search_fields = ["review__external_id__exact", "question__external_id__exact"]
    list_select_related = ["review", "question", "created_by", "outbox"]
    raw_id_fields = ["review", "question", "outbox"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "min_rating", "max_rating", "for_questions", "updated_at"]
    list_filter = ["for_questions"]
    search_fields = ["name", "text"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "kind", "severity", "key", "resolved_at"]
    list_filter = ["kind", "severity"]
    search_fields = ["key"]
    raw_id_fields = ["review", "product", "listing", "resolved_by"]
