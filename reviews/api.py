from __future__ import annotations

from rest_framework import serializers, viewsets

from core.api import IdCursorPagination
from reviews.models import ReplyTemplate


class ReplyTemplateSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ReplyTemplate
        fields = ["id", "name", "text", "min_rating", "max_rating", "for_questions", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class ReplyTemplateViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Read by every role, written by managers and administrators (RolePermission)."""

    serializer_class = ReplyTemplateSerializer
    queryset = ReplyTemplate.objects.order_by("id")
    pagination_class = IdCursorPagination
