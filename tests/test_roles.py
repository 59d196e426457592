"""Roles: groups and permissions, role resolution, and the matrix role x URL x method -> exact rights."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from core.models import AuditEvent
from core.roles import Role, ensure_roles, role_of, set_role
from integrations.models import MarketplaceAccount
from reviews.models import ReplyTemplate
from tests.foundation_support import PASSWORD, client_for, make_account, make_user

pytestmark = pytest.mark.django_db

ADMIN, MANAGER, ANALYST = Role.ADMIN, Role.MANAGER, Role.ANALYST
EVERY_ROLE = {ADMIN: 200, MANAGER: 200, ANALYST: 200}
ADMIN_ONLY = {ADMIN: 200, MANAGER: 403, ANALYST: 403}

READ_PAGES = [
    "/",
    "/catalog/",
    "/orders/",
    "/prices/",
    "/reviews/",
    "/reviews/templates/",
    "/analytics/",
    "/analytics/sales.csv",
    "/analytics/profit/",
    "/analytics/profit.xlsx",
    "/analytics/abc/",
    "/analytics/abc.csv",
    "/analytics/ads/",
    "/analytics/ads.csv",
    "/api/v1/reply-templates/",
]
ADMIN_PAGES = ["/settings/", "/settings/accounts/new/", "/settings/accounts/{account}/", "/api/v1/accounts/"]


def _matrix() -> list[Any]:
    cases = []
    for url in READ_PAGES:
        cases += [pytest.param(role, "get", url, code, id=f"{role}-GET-{url}") for role, code in EVERY_ROLE.items()]
    for url in ADMIN_PAGES:
        cases += [pytest.param(role, "get", url, code, id=f"{role}-GET-{url}") for role, code in ADMIN_ONLY.items()]
    # The Django admin: administrators only; others are sent to the admin's login.
    cases += [
        pytest.param(role, "get", "/admin/", code, id=f"{role}-GET-/admin/")
        for role, code in {ADMIN: 200, MANAGER: 302, ANALYST: 302}.items()
    ]
    # Writes.
    writes = {
        "/settings/accounts/new/": {ADMIN: 302, MANAGER: 403, ANALYST: 403},
        "/settings/accounts/{account}/": {ADMIN: 302, MANAGER: 403, ANALYST: 403},
        "/settings/users/{other_user}/role/": {ADMIN: 302, MANAGER: 403, ANALYST: 403},
        "/reviews/templates/": {ADMIN: 302, MANAGER: 302, ANALYST: 403},
        "/api/v1/reply-templates/": {ADMIN: 201, MANAGER: 201, ANALYST: 403},
        "/api/v1/accounts/": {ADMIN: 405, MANAGER: 403, ANALYST: 403},
    }
    for url, codes in writes.items():
        cases += [pytest.param(role, "post", url, code, id=f"{role}-POST-{url}") for role, code in codes.items()]
    return cases


POST_DATA = {
    "/settings/accounts/new/": {
        "marketplace": "wildberries",
        "name": "New WB",
        "secret": "wb-token-for-matrix",
        "enabled": "on",
    },
    "/settings/accounts/{account}/": {"name": "Renamed", "client_id": "100500", "enabled": "on"},
    "/settings/users/{other_user}/role/": {"role": "analyst"},
    "/reviews/templates/": {"name": "Thanks", "text": "Thank you, {author}!"},
    "/api/v1/reply-templates/": {"name": "Thanks", "text": "Thank you!"},
    "/api/v1/accounts/": {"name": "x"},
}


@pytest.fixture
def world() -> dict[str, Any]:
    account = make_account("ozon", name="Main Ozon")
    other_user = make_user(Role.MANAGER, "colleague")
    return {"account": account.pk, "other_user": other_user.pk}


@pytest.mark.parametrize(("role", "method", "url", "expected"), _matrix())
def test_role_matrix(world: dict[str, Any], role: Role, method: str, url: str, expected: int) -> None:
    client = client_for(make_user(role))
    path = url.format(**world)
    before = (MarketplaceAccount.objects.count(), ReplyTemplate.objects.count(), AuditEvent.objects.count())
    response = client.get(path) if method == "get" else client.post(path, POST_DATA[url])
    assert response.status_code == expected, response.content[:500]
    after = (MarketplaceAccount.objects.count(), ReplyTemplate.objects.count(), AuditEvent.objects.count())
    if expected in (403, 405):
        # A refused write leaves no trace of itself.
        assert after == before
        assert MarketplaceAccount.objects.get(pk=world["account"]).name == "Main Ozon"
        assert role_of(get_user_model().objects.get(pk=world["other_user"])) is Role.MANAGER
    elif method == "post":
        assert after != before or MarketplaceAccount.objects.get(pk=world["account"]).name == "Renamed"


@pytest.mark.parametrize("path", [*READ_PAGES[:-1], "/settings/", "/settings/accounts/new/"])
def test_anonymous_is_sent_to_login(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_anonymous_api_is_refused() -> None:
    # 401 with the scheme to use: token authentication comes first (core/authentication.py).
    response = Client().get("/api/v1/reply-templates/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert Client().post("/api/v1/reply-templates/", {"name": "x", "text": "y"}).status_code == 401
    assert not ReplyTemplate.objects.exists()


def test_user_without_role_gets_nothing() -> None:
    client = client_for(make_user(None))
    assert client.get("/").status_code == 403
    assert client.get("/api/v1/reply-templates/").status_code == 403


def test_navigation_shows_settings_to_administrators_only() -> None:
    for role, sees_settings in [(ADMIN, True), (MANAGER, False), (ANALYST, False)]:
        page = client_for(make_user(role)).get("/").content.decode()
        assert ('href="/settings/"' in page) is sees_settings
        assert 'href="/orders/"' in page


def test_ensure_roles_is_idempotent_and_grants_by_role() -> None:
    ensure_roles()
    ensure_roles()
    assert Group.objects.filter(name__in=["Administrator", "Manager", "Analyst"]).count() == 3
    admin, manager, analyst = make_user(ADMIN), make_user(MANAGER), make_user(ANALYST)
    assert admin.has_perm("integrations.change_marketplaceaccount")
    assert admin.has_perm("auth.change_user")
    assert manager.has_perm("pricing.change_price")
    assert manager.has_perm("reviews.add_replytemplate")
    assert manager.has_perm("integrations.view_marketplaceaccount")
    assert not manager.has_perm("integrations.change_marketplaceaccount")
    assert not manager.has_perm("auth.change_user")
    assert analyst.has_perm("orders.view_order")
    assert not analyst.has_perm("pricing.change_price")
    assert not analyst.has_perm("reviews.add_replytemplate")


def test_role_of_resolution() -> None:
    user = make_user(None)
    assert role_of(user) is None
    both = make_user(ANALYST)
    both.groups.add(Group.objects.get(name="Manager"))
    assert role_of(get_user_model().objects.get(pk=both.pk)) is Role.MANAGER  # the strongest wins
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    assert role_of(superuser) is Role.ADMIN
    inactive = make_user(ADMIN)
    inactive.is_active = False
    inactive.save()
    assert role_of(get_user_model().objects.get(pk=inactive.pk)) is None


def test_admin_changes_a_users_role_with_audit() -> None:
    admin = make_user(ADMIN, "boss")
    analyst = make_user(ANALYST, "anna")
    response = client_for(admin).post(f"/settings/users/{analyst.pk}/role/", {"role": "manager"})
    assert response.status_code == 302
    assert role_of(get_user_model().objects.get(pk=analyst.pk)) is Role.MANAGER
    event = AuditEvent.objects.get(action="user.role_changed")
    assert event.actor == admin
    assert event.details == {"username": "anna", "from": "analyst", "to": "manager"}


def test_admin_cannot_demote_themselves() -> None:
    admin = make_user(ADMIN)
    client_for(admin).post(f"/settings/users/{admin.pk}/role/", {"role": "analyst"})
    assert role_of(get_user_model().objects.get(pk=admin.pk)) is Role.ADMIN


def test_create_user_command_creates_then_updates() -> None:
    out = io.StringIO()
    call_command("create_user", "demo", role="admin", password="first-password-1", stdout=out)
    user = get_user_model().objects.get(username="demo")
    assert "Created user demo with role admin" in out.getvalue()
    assert role_of(user) is Role.ADMIN and user.is_staff and user.check_password("first-password-1")

    call_command("create_user", "demo", "--role", "analyst", "--password", "second-password-2", stdout=out)
    user = get_user_model().objects.get(username="demo")
    assert get_user_model().objects.filter(username="demo").count() == 1
    assert role_of(user) is Role.ANALYST and not user.is_staff
    assert user.check_password("second-password-2") and not user.check_password("first-password-1")
    assert list(user.groups.values_list("name", flat=True)) == ["Analyst"]
    actions = list(AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["user.created", "user.updated"]
    assert all("password" not in str(d) for d in AuditEvent.objects.values_list("details", flat=True))


def test_set_role_moves_user_between_groups() -> None:
    user = make_user(ADMIN)
    set_role(user, MANAGER)
    user = get_user_model().objects.get(pk=user.pk)
    assert list(user.groups.values_list("name", flat=True)) == ["Manager"]
    assert not user.is_staff
