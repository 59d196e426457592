"""The integrations API: marketplace accounts (Administrator only), sync runs (and starting one), and the
outbox of changes sent to the marketplaces (their per-item status, and a retry of a failed one)."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import DescribedModelSerializer, KeysetPagination, field_errors
from core.filters import MarketplaceFilter
from integrations import outbox
from integrations.models import MarketplaceAccount, OutboxChange, SyncRun
from integrations.sync.streams import STREAM_ORDER


class AccountSerializer(DescribedModelSerializer):
    """Health and identifiers only: the credentials are represented by their masked hint alone."""

    # A string, not format "uri": empty means the marketplace's own host.
    base_url = serializers.CharField(read_only=True, help_text="Override of the marketplace API host (sandbox or "
                                                               "proxy); empty: the marketplace's own.")

    class Meta:
        model = MarketplaceAccount
        fields = [
            "id",
            "marketplace",
            "name",
            "client_id",
            "business_id",
            "campaign_ids",
            "base_url",
            "enabled",
            "credentials_hint",
            "last_success_at",
            "last_error_at",
            "last_error",
            "token_expires_at",
        ]
        read_only_fields = fields
        help_texts = {
            "name": "The account's name, unique here.",
            "client_id": "Ozon Client-Id (not a secret).",
            "business_id": "Yandex Market business id.",
            "enabled": "Whether the account is synced and pushed to.",
            "credentials_hint": "The last characters of the key, masked; the key itself is never returned.",
            "last_success_at": "When a call to the marketplace last succeeded.",
            "last_error_at": "When a call to the marketplace last failed.",
            "last_error": "The last failure, as the marketplace or the network reported it.",
            "token_expires_at": "When the key expires (Wildberries tokens), if known.",
        }


@extend_schema_view(
    list=extend_schema(summary="List marketplace accounts", description="Administrators only."),
    retrieve=extend_schema(summary="One marketplace account", description="Administrators only."),
)
class AccountViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    admin_only = True
    serializer_class = AccountSerializer
    queryset = MarketplaceAccount.objects.all()
    pagination_class = KeysetPagination


# ---------------------------------------------------------------------------------------------
# Outbox


class OutboxChangeSerializer(DescribedModelSerializer):
    marketplace = serializers.CharField(
        source="account.marketplace", read_only=True, help_text="Marketplace of the account."
    )
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Who made the change (username), if a user."
    )

    class Meta:
        model = OutboxChange
        fields = [
            "id", "account", "marketplace", "kind", "target_key", "listing", "payload", "previous", "status",
            "attempts", "next_attempt_at", "error_message", "remote_ref", "created_by", "created_at", "sent_at",
            "confirmed_at",
        ]
        read_only_fields = fields
        help_texts = {
            "kind": "What is changed: price, stock, an answer, listing content, joining or leaving a promotion.",
            "target_key": "The changed item as the marketplace names it (listing, offer|warehouse, review id).",
            "status": "Where the change is: pending, sending, sent (awaiting read-back), applied, rejected, "
                      "failed (can be retried) or superseded by a newer change.",
            "attempts": "Sending attempts so far.",
            "next_attempt_at": "When the next attempt is due, after a transient failure.",
            "error_message": "Why the marketplace refused it or the last attempt failed.",
            "remote_ref": "The marketplace's task or upload id.",
            "sent_at": "When the marketplace accepted it.",
            "confirmed_at": "When a read-back showed the new value on the marketplace.",
        }


class OutboxChangeFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    kind = django_filters.ChoiceFilter(choices=OutboxChange.Kind.choices, label="Kind of change.")
    status = django_filters.ChoiceFilter(choices=OutboxChange.Status.choices, label="Status of the change.")
    listing = django_filters.NumberFilter(field_name="listing_id", min_value=1, label="Card (listing id).")

    class Meta:
        model = OutboxChange
        fields = ["marketplace", "account", "kind", "status", "listing"]


def outbox_changes() -> Any:
    return OutboxChange.objects.select_related("account", "created_by")


@extend_schema_view(
    list=extend_schema(summary="List changes sent to the marketplaces",
                       description="Every price, stock, answer, content and promotion change, newest first."),
    retrieve=extend_schema(summary="One change and its per-item result"),
)
class OutboxChangeViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = OutboxChangeSerializer
    queryset = outbox_changes()
    pagination_class = KeysetPagination
    filterset_class = OutboxChangeFilter

    @extend_schema(
        summary="Retry a failed change",
        description="Puts a failed change back in the queue with a fresh attempt budget (managers and "
                    "administrators). A change a newer one has overtaken is marked superseded instead (400).",
        request=None,
        responses={200: OutboxChangeSerializer},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        change = self.get_object()
        try:
            row = outbox.retry_change(change, user=request.user)
        except outbox.OutboxError as error:
            raise field_errors(error, "status") from error
        return Response(OutboxChangeSerializer(outbox_changes().get(pk=row.pk)).data)


# ---------------------------------------------------------------------------------------------
# Sync runs


class SyncRunSerializer(DescribedModelSerializer):
    class Meta:
        model = SyncRun
        fields = [
            "id", "account", "stream", "status", "full", "trigger", "started_at", "heartbeat_at", "finished_at",
            "fetched", "created", "updated", "unchanged", "errors", "pages", "error_message",
        ]
        read_only_fields = fields
        help_texts = {
            "stream": "What was read: " + ", ".join(STREAM_ORDER) + ".",
            "status": "running, succeeded, failed or abandoned.",
            "full": "A full pass (watermarks ignored) rather than the changes since the last run.",
            "trigger": "What started it: schedule, manual, command, api.",
            "started_at": "When the run started.",
            "heartbeat_at": "When the running run last reported progress.",
            "finished_at": "When the run ended.",
            "fetched": "Rows read from the marketplace.",
            "created": "Rows created here.",
            "updated": "Rows changed here.",
            "unchanged": "Rows read that had not changed.",
            "errors": "Rows refused as invalid.",
            "pages": "Pages read.",
            "error_message": "Why the run failed.",
        }


class SyncRunFilter(django_filters.FilterSet):  # type: ignore[misc]
    marketplace = MarketplaceFilter()
    account = django_filters.ModelChoiceFilter(queryset=MarketplaceAccount.objects.all(), label="Account (id).")
    stream = django_filters.ChoiceFilter(choices=[(s, s) for s in STREAM_ORDER], label="Stream.")
    status = django_filters.ChoiceFilter(choices=SyncRun.Status.choices, label="Status of the run.")

    class Meta:
        model = SyncRun
        fields = ["marketplace", "account", "stream", "status"]


class SyncStartSerializer(serializers.Serializer):  # type: ignore[type-arg]
    account = serializers.PrimaryKeyRelatedField(
        queryset=MarketplaceAccount.objects.filter(enabled=True), help_text="The account to sync (enabled)."
    )
    stream = serializers.ChoiceField(choices=list(STREAM_ORDER), help_text="The stream to read.")
    full = serializers.BooleanField(default=False, help_text="Re-read everything, ignoring the watermark.")


class SyncQueuedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    account = serializers.IntegerField(help_text="The account whose sync was queued.")
    stream = serializers.CharField(help_text="The queued stream.")
    full = serializers.BooleanField(help_text="Whether it is a full pass.")
    queued = serializers.BooleanField(help_text="Always true: the run appears among the sync runs once a worker "
                                                "starts it.")


@extend_schema_view(
    list=extend_schema(summary="List sync runs", description="Every pull of a stream of an account, newest first."),
    retrieve=extend_schema(summary="One sync run"),
)
class SyncRunViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    serializer_class = SyncRunSerializer
    queryset = SyncRun.objects.all()
    pagination_class = KeysetPagination
    filterset_class = SyncRunFilter

    @extend_schema(
        summary="Start a sync now",
        description="Queues one stream of an account for the sync workers, as the schedule does "
                    "(integrations.sync_status.request_sync, as the settings' \"sync now\"); `queued` is false when "
                    "that stream is already running. Managers and administrators.",
        request=SyncStartSerializer,
        responses={202: SyncQueuedSerializer},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def start(self, request: Request) -> Response:
        from integrations.sync_status import SyncRequestError, request_sync

        form = SyncStartSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        # The same service as the settings' "sync now": audited, queued after commit, never twice at once.
        try:
            queued = request_sync(
                data["account"], [data["stream"]], full=data["full"], actor=request.user, trigger="api"
            )
        except SyncRequestError as exc:
            raise ValidationError({"account": [str(exc)]}) from exc
        body = {"account": data["account"].pk, "stream": data["stream"], "full": data["full"], "queued": bool(queued)}
        return Response(body, status=status.HTTP_202_ACCEPTED)
