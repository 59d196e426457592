"""Administrator settings in the browser's server side: users (create, deactivate, new password), marketplace
accounts (the key tried on save against the sandbox over loopback HTTP, API address rules) and each account's
syncs (stream states, recent runs with errors in words, "sync now")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from core.models import AuditEvent
from core.roles import Role, role_of
from integrations.models import MarketplaceAccount, SyncRun
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from tests.foundation_support import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db
STRONG = "Kx9-pelmeni-Volga-2026"


def _messages(response: object) -> str:
    return " ".join(str(m) for m in response.context["messages"])  # type: ignore[attr-defined]


class TestUsers:
    def test_an_admin_creates_a_user_with_a_role_and_the_password_validators_apply(self) -> None:
        admin = make_user(Role.ADMIN)
        client = client_for(admin)
        weak = client.post(
            "/settings/users/new/",
            {"username": "olga", "role": "manager", "password": "12345678", "password_again": "12345678"},
        )
        page = weak.content.decode()
        assert weak.status_code == 200 and "слишком широко распространён" in page
        assert not get_user_model().objects.filter(username="olga").exists()

        created = client.post(
            "/settings/users/new/",
            {"username": "olga", "email": "olga@example.com", "role": "manager", "password": STRONG,
             "password_again": STRONG},
            follow=True,
        )
        assert "Пользователь olga создан" in _messages(created)
        olga = get_user_model().objects.get(username="olga")
        assert role_of(olga) is Role.MANAGER and olga.check_password(STRONG)
        event = AuditEvent.objects.get(action="user.created")
        assert event.actor == admin and STRONG not in str(event.details) + str(event.new)
        assert Client().post("/login/", {"username": "olga", "password": STRONG}).status_code == 302

    def test_a_duplicate_name_and_different_passwords_are_refused(self) -> None:
        client = client_for(make_user(Role.ADMIN))
        make_user(Role.ANALYST, "olga")
        response = client.post(
            "/settings/users/new/",
            {"username": "OLGA", "role": "analyst", "password": STRONG, "password_again": STRONG + "x"},
        )
        page = response.content.decode()
        assert "Пароли не совпадают" in page
        assert get_user_model().objects.filter(username__iexact="olga").count() == 1

    def test_deactivation_signs_the_user_out_and_an_admin_cannot_deactivate_themselves(self) -> None:
        admin = make_user(Role.ADMIN)
        client = client_for(admin)
        manager = make_user(Role.MANAGER, "mila", password=PASSWORD)
        their_browser = client_for(manager)
        assert their_browser.get("/").status_code == 200

        client.post(f"/settings/users/{manager.pk}/active/", {"active": "0"})
        manager.refresh_from_db()
        assert manager.is_active is False
        assert their_browser.get("/").status_code == 302  # the open session no longer works
        assert AuditEvent.objects.get(action="user.deactivated").old == {"is_active": True}

        refused = client.post(f"/settings/users/{admin.pk}/active/", {"active": "0"}, follow=True)
        assert "Нельзя отключить самого себя" in _messages(refused)
        admin.refresh_from_db()
        assert admin.is_active

        client.post(f"/settings/users/{manager.pk}/active/", {"active": "1"})
        assert Client().post("/login/", {"username": "mila", "password": PASSWORD}).status_code == 302

    def test_a_new_password_is_validated_and_ends_the_users_sessions(self) -> None:
        client = client_for(make_user(Role.ADMIN))
        manager = make_user(Role.MANAGER, "mila", password=PASSWORD)
        their_browser = Client()
        their_browser.post("/login/", {"username": "mila", "password": PASSWORD})
        assert their_browser.get("/").status_code == 200

        short = client.post(f"/settings/users/{manager.pk}/password/", {"password": "mila", "password_again": "mila"})
        assert "слишком короткий" in short.content.decode().lower()

        client.post(f"/settings/users/{manager.pk}/password/", {"password": STRONG, "password_again": STRONG})
        manager.refresh_from_db()
        assert manager.check_password(STRONG)
        assert their_browser.get("/").status_code == 302
        event = AuditEvent.objects.get(action="user.password_reset")
        assert STRONG not in str(event.details) + str(event.new) + str(event.old)

    @pytest.mark.parametrize("role", [Role.MANAGER, Role.ANALYST])
    def test_only_administrators_manage_users(self, role: Role) -> None:
        client = client_for(make_user(role))
        other = make_user(Role.ANALYST, "olga")
        assert client.get("/settings/users/new/").status_code == 403
        data = {"username": "x", "role": "admin", "password": STRONG, "password_again": STRONG}
        assert client.post("/settings/users/new/", data).status_code == 403
        assert client.post(f"/settings/users/{other.pk}/active/", {"active": "0"}).status_code == 403
        reset = {"password": STRONG, "password_again": STRONG}
        assert client.post(f"/settings/users/{other.pk}/password/", reset).status_code == 403
        assert not get_user_model().objects.filter(username="x").exists()


@pytest.fixture
def server(settings) -> Iterator[SandboxServer]:
    settings.MARKETPLACE_LIMITS_ENABLED = False
    world = SandboxWorld(SandboxConfig(seed=5, products=8, orders=6, start=datetime.now(UTC).replace(microsecond=0)))
    world.faults.update({"ym_api_key_scopes": ["PRICING", "COMMUNICATION", "OFFERS_AND_CARDS_MANAGEMENT_READ_ONLY"]})
    srv = SandboxServer(SandboxApp(world)).start()
    yield srv
    srv.stop()


class TestAccountKeys:
    def test_a_working_key_is_saved_and_the_page_says_what_it_may_do(self, server: SandboxServer) -> None:
        client = client_for(make_user(Role.ADMIN))
        response = client.post(
            "/settings/accounts/new/",
            {"marketplace": "yandex_market", "name": "Маркет", "business_id": str(sandbox_credentials.YM_BUSINESS_ID),
             "secret": sandbox_credentials.YM_API_KEY, "base_url": server.base_url("yandex_market"), "enabled": "on"},
            follow=True,
        )
        said = _messages(response)
        assert "Ключ работает" in said and "цены" in said and "отзывы, вопросы и чаты" in said
        assert "карточки и товары, только чтение" in said
        assert MarketplaceAccount.objects.filter(name="Маркет").exists()

        ozon = client.post(
            "/settings/accounts/new/",
            {"marketplace": "ozon", "name": "Озон", "client_id": sandbox_credentials.OZON_CLIENT_ID,
             "secret": sandbox_credentials.OZON_API_KEY, "base_url": server.base_url("ozon"), "enabled": "on"},
            follow=True,
        )
        assert "Ключ работает. Доступ: Admin" in _messages(ozon)

    def test_a_key_the_marketplace_refuses_is_not_saved(self, server: SandboxServer) -> None:
        client = client_for(make_user(Role.ADMIN))
        response = client.post(
            "/settings/accounts/new/",
            {"marketplace": "ozon", "name": "Озон", "client_id": sandbox_credentials.OZON_CLIENT_ID,
             "secret": "not-the-key", "base_url": server.base_url("ozon"), "enabled": "on"},
        )
        page = response.content.decode()
        assert response.status_code == 200 and "Маркетплейс отклонил ключ" in page
        assert "not-the-key" not in page
        assert not MarketplaceAccount.objects.exists() and not AuditEvent.objects.filter(action="account.created")

    def test_an_unreachable_marketplace_does_not_block_saving_and_says_the_key_is_unchecked(self) -> None:
        client = client_for(make_user(Role.ADMIN))
        response = client.post(
            "/settings/accounts/new/",
            {"marketplace": "wildberries", "name": "WB", "secret": sandbox_credentials.WB_TOKEN,
             "base_url": "http://127.0.0.1:9/wb", "enabled": "on"},
            follow=True,
        )
        assert "Ключ не удалось проверить" in _messages(response)
        assert MarketplaceAccount.objects.filter(name="WB").exists()

    def test_check_the_saved_key_from_the_settings(self, server: SandboxServer) -> None:
        account = MarketplaceAccount(marketplace="wildberries", name="WB", base_url=server.base_url("wildberries"))
        account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
        account.save()
        response = client_for(make_user(Role.ADMIN)).post(f"/settings/accounts/{account.pk}/check/", follow=True)
        assert "WB: Ключ работает. Доступ: персональный токен" in _messages(response)

    def test_plain_http_is_refused_outside_this_machine(self) -> None:
        client = client_for(make_user(Role.ADMIN))
        response = client.post(
            "/settings/accounts/new/",
            {"marketplace": "wildberries", "name": "WB", "secret": "t", "base_url": "http://proxy.example.com/wb"},
        )
        assert "должен начинаться с https://" in response.content.decode()
        assert not MarketplaceAccount.objects.exists()

    def test_changing_the_api_address_needs_the_key_again(self, server: SandboxServer) -> None:
        account = MarketplaceAccount(marketplace="wildberries", name="WB", base_url=server.base_url("wildberries"))
        account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
        account.save()
        client = client_for(make_user(Role.ADMIN))
        moved = {"name": "WB", "base_url": "https://wb-proxy.example.com", "enabled": "on"}
        response = client.post(f"/settings/accounts/{account.pk}/", moved)
        assert "Чтобы сменить адрес API, введите ключ ещё раз" in response.content.decode()
        account.refresh_from_db()
        assert account.base_url == server.base_url("wildberries")


def _wb_account(server: SandboxServer) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace="wildberries", name="WB", base_url=server.base_url("wildberries"))
    account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
    account.save()
    return account


class TestSyncs:
    def test_the_syncs_page_shows_every_stream_its_runs_and_errors_in_words(
        self, server: SandboxServer, django_assert_max_num_queries
    ) -> None:
        account = _wb_account(server)
        call_command("sync", "WB", "--only", "warehouses,listings", "--no-progress")
        SyncRun.objects.create(
            account=account, stream="orders", status=SyncRun.Status.FAILED,
            error_message="AuthError (HTTP 401): WB: token problem; token is expired",
        )
        client = client_for(make_user(Role.ADMIN))
        with django_assert_max_num_queries(15):
            response = client.get(f"/settings/accounts/{account.pk}/syncs/")
        page = response.content.decode()
        assert response.status_code == 200
        for label in ("Склады", "Карточки", "Заказы", "Отзывы", "Финансы"):
            assert label in page
        assert "Маркетплейс отклонил ключ: проверьте его в настройках аккаунта." in page
        assert "token problem; token is expired" in page  # the marketplace's own words, under the explanation
        assert page.count('data-stream="') == 14

    def test_sync_now_queues_the_stream_and_the_run_shows(
        self, server: SandboxServer, settings, django_capture_on_commit_callbacks
    ) -> None:
        settings.CELERY_TASK_ALWAYS_EAGER = True
        from config.celery import app

        app.conf.task_always_eager = True
        try:
            account = _wb_account(server)
            client = client_for(make_user(Role.ADMIN))
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    f"/settings/accounts/{account.pk}/syncs/now/", {"stream": "warehouses"}, follow=True
                )
        finally:
            app.conf.task_always_eager = False
        assert "Синхронизация поставлена в очередь" in _messages(response)
        run = SyncRun.objects.get(account=account, stream="warehouses")
        assert (run.trigger, run.status) == ("manual", SyncRun.Status.SUCCEEDED)
        assert AuditEvent.objects.get(action="sync.requested").details["streams"] == ["warehouses"]

    def test_a_running_stream_polls_for_progress_and_is_not_queued_twice(self, server: SandboxServer) -> None:
        account = _wb_account(server)
        SyncRun.objects.create(account=account, stream="orders", status=SyncRun.Status.RUNNING, pages=3, fetched=250)
        client = client_for(make_user(Role.ADMIN))
        page = client.get(f"/settings/accounts/{account.pk}/syncs/").content.decode()
        assert 'hx-trigger="every 2s"' in page and "страница 3, 250 строк" in page
        partial = client.get(f"/settings/accounts/{account.pk}/syncs/", HTTP_HX_REQUEST="true").content.decode()
        assert partial.startswith('\n<div id="sync-status"') or 'id="sync-status"' in partial.splitlines()[1]
        assert "<html" not in partial
        response = client.post(f"/settings/accounts/{account.pk}/syncs/now/", {"stream": "orders"}, follow=True)
        assert "Уже выполняется" in _messages(response)

    @pytest.mark.parametrize("role", [Role.MANAGER, Role.ANALYST])
    def test_only_administrators_see_and_start_syncs(self, role: Role, server: SandboxServer) -> None:
        account = _wb_account(server)
        client = client_for(make_user(role))
        assert client.get(f"/settings/accounts/{account.pk}/syncs/").status_code == 403
        assert client.post(f"/settings/accounts/{account.pk}/syncs/now/", {"stream": "all"}).status_code == 403
        assert client.post(f"/settings/accounts/{account.pk}/check/").status_code == 403
        assert not AuditEvent.objects.filter(action="sync.requested").exists()
