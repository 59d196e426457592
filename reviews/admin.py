from django.contrib import admin

from reviews.models import Alert, Answer, Question, ReplyTemplate, Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["external_id", "account", "rating", "author", "published_at", "is_answered"]
    list_filter = ["is_answered", "rating", "account__marketplace", "account"]
    search_fields = ["external_id", "text", "author", "offer_id"]
    list_select_related = ["account"]
    raw_id_fields = ["listing"]
    date_hierarchy = "published_at"


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["external_id", "account", "author", "published_at", "is_answered"]
    list_filter = ["is_answered", "account__marketplace", "account"]
    search_fields = ["external_id", "text", "author", "offer_id"]
    list_select_related = ["account"]
    raw_id_fields = ["listing"]
    date_hierarchy = "published_at"


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "review", "question", "created_by", "outbox"]
    list_filter = ["template"]
    search_fields = ["text", "review__external_id", "question__external_id"]
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
