"""The accounts API: health and identifiers of marketplace accounts (Administrator only)."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from core.api import IdCursorPagination
from integrations.models import MarketplaceAccount


class AccountSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Health and identifiers only: the credentials are represented by their masked hint alone."""

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


class AccountViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    admin_only = True
    serializer_class = AccountSerializer
    queryset = MarketplaceAccount.objects.order_by("id")
    pagination_class = IdCursorPagination
