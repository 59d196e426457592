"""The reviews API: reviews and questions, answering one or a selection (reviews.services, through the
outbox), and the reply templates."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import DescribedModelSerializer, KeysetPagination, field_errors
from core.filters import MarketplaceFilter
from integrations.models import MarketplaceAccount
from reviews.filters import ANSWERED_CHOICES
from reviews.models import Answer, Question, ReplyTemplate, Review
from reviews.selectors import REVIEW_SORTS
from reviews.services import AnswerError, answer_many, answer_question, answer_review

MAX_BULK = 200


class ReplyTemplateSerializer(DescribedModelSerializer):
    class Meta:
        model = ReplyTemplate
        fields = ["id", "name", "text", "min_rating", "max_rating", "for_questions", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        help_texts = {
            "name": "Name of the template.",
            "text": "The answer; may use {author} (the buyer's name) and {product}.",
            "min_rating": "Lowest rating of the reviews it suits (empty: any).",
            "max_rating": "Highest rating of the reviews it suits (empty: any).",
            "for_questions": "For questions rather than reviews.",
        }


@extend_schema_view(
    list=extend_schema(summary="List reply templates"),
    retrieve=extend_schema(summary="One reply template"),
    create=extend_schema(summary="Create a reply template"),
    update=extend_schema(summary="Replace a reply template"),
    partial_update=extend_schema(summary="Change a reply template"),
    destroy=extend_schema(summary="Delete a reply template"),
)
class ReplyTemplateViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Read by every role, written by managers and administrators (RolePermission)."""

    serializer_class = ReplyTemplateSerializer
    queryset = ReplyTemplate.objects.all()
    pagination_class = KeysetPagination


# ---------------------------------------------------------------------------------------------
# Reviews and questions


FEEDBACK_HELP = {
    "sku": "Marketplace item id the feedback is on.",
    "text": "The buyer's text.",
    "author": "The buyer's name as the marketplace shows it.",
    "published_at": "When it was published.",
    "is_answered": "Whether the marketplace shows an answer.",
    "answer_text": "The published answer as the marketplace shows it.",
}


class ReviewSerializer(DescribedModelSerializer):
    class Meta:
        model = Review
        fields = ["id", "account", "external_id", "listing", "offer_id", "sku", "rating", "text", "pros", "cons",
                  "author", "photos_count", "published_at", "raw_status", "is_answered", "answer_text", "flags",
                  "created_at", "updated_at"]
        read_only_fields = fields
        help_texts = {
            **FEEDBACK_HELP,
            "rating": "Stars, 1..5.",
            "pros": "What the buyer liked.",
            "cons": "What the buyer disliked.",
            "photos_count": "Photos attached.",
            "flags": "Suspicion flags of the review checks: {flag code: its evidence}.",
        }


class QuestionSerializer(DescribedModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "account", "external_id", "listing", "offer_id", "sku", "text", "author", "published_at",
                  "raw_status", "is_answered", "answer_text", "created_at", "updated_at"]
        read_only_fields = fields
        help_texts = FEEDBACK_HELP


class AnswerSerializer(DescribedModelSerializer):
    delivery = serializers.CharField(source="outbox.status", read_only=True, allow_null=True,
                                     help_text="Delivery status of the answer's outbox change.")
    outbox: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The outbox change (id) delivering it."
    )

    class Meta:
        model = Answer
        fields = ["id", "review", "question", "text", "template", "outbox", "delivery", "created_at"]
        read_only_fields = fields
        help_texts = {
            "review": "The review answered (id), or null.",
            "question": "The question answered (id), or null.",
            "text": "The answer as sent.",
            "template": "The template it was written from (id), if any.",
        }


class AnswerInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    text = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000,
                                 help_text="The answer; may be empty with a template.")
    template = serializers.PrimaryKeyRelatedField(queryset=ReplyTemplate.objects.all(), required=False,
                                                  allow_null=True, default=None,
                                                  help_text="A reply template (id) to render for the buyer.")


class BulkAnswerInputSerializer(AnswerInputSerializer):
    keys = serializers.ListField(
        child=serializers.RegexField(r"^(review|question):\d{1,18}$", max_length=30),
        min_length=1, max_length=MAX_BULK,
        help_text=f"The selection: up to {MAX_BULK} items as review:<id> or question:<id>.",
    )


class BulkAnswerResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    key = serializers.CharField(help_text="The item as selected.")
    ok = serializers.BooleanField(help_text="Whether an answer was queued.")
    answer = AnswerSerializer(allow_null=True, help_text="The queued answer, or null when refused.")
    reason = serializers.CharField(allow_blank=True, help_text="Why it was refused.")


def _answered(answer_call: Any, target: Any, request: Request) -> Response:
    form = AnswerInputSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    data: dict[str, Any] = form.validated_data
    try:
        answer = answer_call(target, data["text"], request.user, data["template"])
    except AnswerError as error:
        raise field_errors(error, "text") from error
    return Response(AnswerSerializer(answer).data, status=status.HTTP_202_ACCEPTED)


ANSWER_DOC = ("Queues the answer for the marketplace through the outbox; the item shows as answered when the "
              "next sync reads the published answer back. Managers and administrators.")


# The inbox screen's InboxFilter merges reviews and questions (reviews.inbox); the reviews list keeps the
# earlier reviews screen's filters.
class ReviewFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    rating = django_filters.TypedChoiceFilter(choices=[(n, str(n)) for n in range(5, 0, -1)], coerce=int,
                                              label="Stars, 1..5.")
    answered = django_filters.ChoiceFilter(choices=ANSWERED_CHOICES, method="filter_answered",
                                          label="yes: answered; no: unanswered.")
    listing = django_filters.NumberFilter(field_name="listing_id", min_value=1, label="Card (listing id).")

    class Meta:
        model = Review
        fields = ["marketplace", "account", "rating", "answered", "listing"]

    def filter_answered(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(is_answered=value == "yes")


@extend_schema_view(
    list=extend_schema(summary="List reviews", description="Filters as on the reviews screen."),
    retrieve=extend_schema(summary="One review"),
)
class ReviewViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = ReviewSerializer
    queryset = Review.objects.select_related("account", "listing")
    pagination_class = KeysetPagination
    filterset_class = ReviewFilter
    sorts = REVIEW_SORTS

    @extend_schema(summary="Answer a review", description=ANSWER_DOC, request=AnswerInputSerializer,
                   responses={202: AnswerSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        return _answered(answer_review, self.get_object(), request)


class QuestionFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    answered = django_filters.ChoiceFilter(choices=ANSWERED_CHOICES, method="filter_answered",
                                          label="yes: answered; no: unanswered.")
    listing = django_filters.NumberFilter(field_name="listing_id", min_value=1, label="Card (listing id).")

    class Meta:
        model = Question
        fields = ["marketplace", "account", "answered", "listing"]

    def filter_answered(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(is_answered=value == "yes")


@extend_schema_view(
    list=extend_schema(summary="List questions"),
    retrieve=extend_schema(summary="One question"),
)
class QuestionViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = QuestionSerializer
    queryset = Question.objects.select_related("account", "listing__product")
    pagination_class = KeysetPagination
    filterset_class = QuestionFilter

    @extend_schema(summary="Answer a question", description=ANSWER_DOC, request=AnswerInputSerializer,
                   responses={202: AnswerSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        return _answered(answer_question, self.get_object(), request)


@extend_schema_view(
    list=extend_schema(summary="List answers written here"),
    retrieve=extend_schema(summary="One answer and its delivery"),
)
class AnswerViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Answers written here and their delivery."""

    serializer_class = AnswerSerializer
    queryset = Answer.objects.select_related("outbox")
    pagination_class = KeysetPagination

    @extend_schema(
        summary="Answer a selection of reviews and questions",
        description="One text, or one template rendered for each item. Each item is answered or refused "
                    "with its reason (already answered, an answer on its way, the template does not fit, "
                    "unknown). Managers and administrators.",
        request=BulkAnswerInputSerializer,
        responses={200: BulkAnswerResultSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def bulk(self, request: Request) -> Response:
        form = BulkAnswerInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        results = answer_many(data["keys"], data["text"], request.user, data["template"])
        body = [{"key": r.key, "ok": r.ok, "answer": r.answer, "reason": str(r.reason)} for r in results]
        return Response(BulkAnswerResultSerializer(body, many=True).data)

