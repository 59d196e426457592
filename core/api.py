"""A small JSON API. Permissions: core.permissions.RolePermission (the DRF default in settings)."""

from __future__ import annotations

from rest_framework import serializers, viewsets
from rest_framework.pagination import CursorPagination

from integrations.models import MarketplaceAccount


class IdCursorPagination(CursorPagination):
    """Stable paging for tables without a `created` column (DRF's default cursor ordering)."""

    ordering = "id"


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
