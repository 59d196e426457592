"""The analytics API: the marketplaces' finance operations (accruals, fees, payouts) with their fee lines,
and report jobs (a profit or ABC report built in the background as a file)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.abc import MEASURES
from analytics.jobs import FORMATS, KINDS, start_report_job
from analytics.models import Discrepancy, FeeLine, FinanceOperation, ReportJob
from analytics.period import MAX_DAYS, PERIODS
from analytics.profit import DIMENSIONS
from analytics.reconciliation import DISCREPANCY_SORTS, discrepancies
from analytics.reconciliation_filters import DiscrepancyFilter
from core.api import DescribedModelSerializer, KeysetPagination
from core.files import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from core.filters import MarketplaceFilter
from core.models import Marketplace
from core.roles import EVERYONE
from integrations.models import MarketplaceAccount


class FeeLineSerializer(DescribedModelSerializer):
    class Meta:
        model = FeeLine
        fields = ["kind", "name", "amount"]
        read_only_fields = fields
        help_texts = {
            "kind": "Kind of fee (commission, logistics, storage, …).",
            "name": "The marketplace's own name of the fee.",
            "amount": "Amount of the fee (negative: charged).",
        }


class FinanceOperationSerializer(DescribedModelSerializer):
    fees = FeeLineSerializer(many=True, read_only=True, help_text="The operation's fee lines.")

    class Meta:
        model = FinanceOperation
        fields = ["id", "account", "external_id", "operation_type", "operation_at", "order_external_id", "order",
                  "offer_id", "quantity", "sale_amount", "amount", "currency", "fees", "created_at", "updated_at"]
        read_only_fields = fields
        help_texts = {
            "operation_type": "The marketplace's type of operation.",
            "operation_at": "When the operation took place.",
            "order": "The order (id), once linked.",
            "quantity": "Units the operation is about.",
        }


class FinanceOperationFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    order = django_filters.NumberFilter(field_name="order_id", min_value=1, label="Order (id).")
    # Days in the display time zone, as the orders' filter (a range on the indexed column).
    operation_from = django_filters.DateFilter(method="filter_from", label="Operations on or after this day.")
    operation_to = django_filters.DateFilter(method="filter_to", label="Operations on or before this day.")

    class Meta:
        model = FinanceOperation
        fields = ["marketplace", "account", "order", "operation_from", "operation_to"]

    def filter_from(self, queryset: QuerySet[FinanceOperation], name: str, value: date) -> QuerySet[FinanceOperation]:
        return queryset.filter(operation_at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[FinanceOperation], name: str, value: date) -> QuerySet[FinanceOperation]:
        if value >= date.max:
            return queryset
        return queryset.filter(operation_at__lt=_day_start(value + timedelta(days=1)))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@extend_schema_view(list=extend_schema(summary="List finance operations with their fees"),
                    retrieve=extend_schema(summary="One finance operation with its fees"))
class FinanceOperationViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = FinanceOperationSerializer
    queryset = FinanceOperation.objects.prefetch_related("fees")
    pagination_class = KeysetPagination
    filterset_class = FinanceOperationFilter


class DiscrepancySerializer(DescribedModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True,
                                       help_text="The kind of discrepancy, in words.")

    class Meta:
        model = Discrepancy
        fields = ["id", "account", "kind", "kind_label", "day", "occurred_at", "order", "order_external_id",
                  "expected", "actual", "difference", "rate", "currency", "operation_ids", "computed_at"]
        read_only_fields = fields
        help_texts = {
            "kind": "no_payout, underpaid, commission_high, return_unrecorded, unexpected_charge or unknown_order.",
            "day": "The order's day (Moscow), or the operation's when it names no order of ours.",
            "order": "Our order (id), when we have it.",
            "order_external_id": "The order as the marketplace names it.",
            "expected": "What our orders predict (charges negative).",
            "actual": "What the marketplace's finance reports say (charges negative).",
            "difference": "expected − actual: what the marketplace owes by our orders.",
            "rate": "The tariff's commission, % (commission above the tariff only).",
            "operation_ids": "The marketplace's ids of the operations concerned.",
        }


@extend_schema_view(list=extend_schema(summary="List reconciliation discrepancies"),
                    retrieve=extend_schema(summary="One reconciliation discrepancy"))
class DiscrepancyViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """Differences between our orders and what the marketplaces accrued, charged and paid, as the
    reconciliation's last refresh found them (read only)."""

    serializer_class = DiscrepancySerializer
    queryset = discrepancies()
    pagination_class = KeysetPagination
    filterset_class = DiscrepancyFilter
    sorts = DISCREPANCY_SORTS
# ---------------------------------------------------------------------------------------------
# Report jobs: a profit or ABC report built in the background as a file (analytics.jobs).


class ReportParamsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What the report covers, as the report pages' query string names it."""

    days = serializers.ChoiceField(choices=list(PERIODS), required=False,
                                   help_text="A preset: the last 7, 30 or 90 days up to today. Default 30.")
    start = serializers.DateField(required=False, help_text="First day of a custom period (with `end`).")
    end = serializers.DateField(required=False, help_text="Last day of a custom period (with `start`).")
    marketplace = serializers.ChoiceField(choices=Marketplace.choices, required=False,
                                          help_text="Only this marketplace's accounts. Default: every account.")
    by = serializers.ChoiceField(choices=list(DIMENSIONS), required=False,
                                 help_text="Profit report: group by product, brand, category, marketplace or "
                                           "account. Default product.")
    measure = serializers.ChoiceField(choices=list(MEASURES), required=False,
                                      help_text="ABC report: rank by revenue or profit. Default revenue.")
    cell = serializers.RegexField(r"^[ABCabc][XYZxyz]$", required=False,
                                  help_text="ABC report: only the products of this cell (AX … CZ).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            missing = "end" if end is None else "start"
            raise serializers.ValidationError({missing: [gettext("Give both the start and the end of the period.")]})
        if start is not None and end is not None:
            if "days" in attrs:
                raise serializers.ValidationError({"days": [gettext("Give either days or start and end.")]})
            if start > end:
                raise serializers.ValidationError({"end": [gettext("The end is before the start.")]})
            if (end - start).days >= MAX_DAYS:
                raise serializers.ValidationError(
                    {"end": [gettext("A period is at most %(days)s days.") % {"days": MAX_DAYS}]})
        return attrs


class ReportJobCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=list(KINDS), help_text="profit (sales and profit) or abc (ABC × XYZ).")
    format = serializers.ChoiceField(choices=list(FORMATS), help_text="File format: xlsx or csv.")
    params = ReportParamsSerializer(required=False, help_text="The period and filters of the report.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        params = attrs.get("params") or {}
        foreign = ("measure", "cell") if attrs["kind"] == "profit" else ("by",)
        wrong = [name for name in foreign if name in params]
        if wrong:
            message = gettext("Not a parameter of this report.")
            raise serializers.ValidationError({"params": {name: [message] for name in wrong}})
        return attrs

    def query(self) -> dict[str, str]:
        """The parameters as the report's query string (what the job and the pages read)."""
        params = self.validated_data.get("params") or {}
        return {name: (value.isoformat() if hasattr(value, "isoformat") else str(value).upper() if name == "cell"
                       else str(value)) for name, value in params.items()}


class ReportJobSerializer(DescribedModelSerializer):
    format = serializers.CharField(source="fmt", read_only=True, help_text="File format: xlsx or csv.")
    download = serializers.SerializerMethodField(help_text="Where to download the file once the job is done; "
                                                           "null before.")

    class Meta:
        model = ReportJob
        fields = ["id", "kind", "format", "params", "status", "progress", "filename", "error", "created_at",
                  "finished_at", "download"]
        read_only_fields = fields
        help_texts = {
            "kind": "profit (sales and profit) or abc (ABC × XYZ).",
            "params": "The period and filters of the report, as the report pages' query string names them.",
            "status": "pending (queued), running, done or failed.",
            "progress": "Percent done.",
            "filename": "The file's name, once done.",
            "error": "Why it failed (the error's kind), if it did.",
            "created_at": "When the job was requested.",
            "finished_at": "When it finished (done or failed).",
        }

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_download(self, job: ReportJob) -> str | None:
        if job.status != ReportJob.Status.DONE:
            return None
        request = self.context.get("request")
        path = reverse("api-report-job-download", args=[job.pk])
        return request.build_absolute_uri(path) if request is not None else path


class ReportJobFilter(django_filters.FilterSet):  # type: ignore[misc]
    status = django_filters.ChoiceFilter(choices=ReportJob.Status.choices, label="Only jobs in this status.")
    kind = django_filters.ChoiceFilter(choices=[(k, k) for k in KINDS], label="Only reports of this kind.")

    class Meta:
        model = ReportJob
        fields = ["status", "kind"]


_FILE = OpenApiResponse(OpenApiTypes.BINARY, description="The report's file.")


class NotReadySerializer(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField(help_text="Why there is no file yet.")
    status = serializers.CharField(help_text="The job's status: pending, running or failed.")


@extend_schema_view(
    list=extend_schema(summary="List your report jobs", description="Your own jobs, newest first, with their "
                       "status and progress. Every role."),
    retrieve=extend_schema(summary="One of your report jobs"),
)
class ReportJobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """A report (profit or ABC, any period) built in the background as an XLSX or CSV file. Creating one
    only reads data, so every role may, analysts included; each user sees and downloads only their own."""

    serializer_class = ReportJobSerializer
    pagination_class = KeysetPagination
    filterset_class = ReportJobFilter
    write_roles = EVERYONE  # core.permissions.RolePermission: a report job writes no data

    def get_queryset(self) -> QuerySet[ReportJob]:
        return ReportJob.objects.filter(user_id=self.request.user.pk or 0).defer("content")

    @extend_schema(summary="Request a report file",
                   description="Queues the report; poll the job (or the list) for its status and progress, then "
                               "download the file. Every role.",
                   request=ReportJobCreateSerializer, responses={201: ReportJobSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = ReportJobCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = start_report_job(request.user, form.validated_data["kind"], form.validated_data["format"], form.query())
        return Response(ReportJobSerializer(job, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download a report job's file",
        responses={
            (200, XLSX_CONTENT_TYPE): _FILE, (200, "text/csv"): _FILE,
            409: OpenApiResponse(NotReadySerializer, description="The job has no file (not done yet, or failed)."),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def download(self, request: Request, pk: str | None = None) -> Any:
        job = self.get_object()
        if job.status != ReportJob.Status.DONE:
            body = {"detail": gettext("The report is not ready."), "status": job.status}
            return Response(NotReadySerializer(body).data, status=status.HTTP_409_CONFLICT)
        content = ReportJob.objects.values_list("content", flat=True).get(pk=job.pk)
        response = HttpResponse(bytes(content or b""), content_type=XLSX_CONTENT_TYPE if job.fmt == "xlsx"
                                else CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
        return response
