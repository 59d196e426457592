"""Marketplace accounts: add_account, encryption at rest, key rotation, masked display, no secret leaks."""

from __future__ import annotations

import io
import logging
import threading

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import override_settings

from core import crypto
from core.models import AuditEvent
from core.roles import Role
from integrations.accounts import accounts_rotate_keys, wb_token_expiry
from integrations.models import MarketplaceAccount
from integrations.sandbox import credentials as sandbox
from tests.foundation_support import client_for, make_account, make_user

CANARY = "CANARY-7f3a9c2e-never-show-me-5150"
# Nothing listens there: the key check on save fails at once, as an unreachable marketplace, and no request
# leaves the machine.
CLOSED_PORT = "http://127.0.0.1:9/ozon"
OLD_KEYS = f"old:{Fernet.generate_key().decode()}"
NEW_PRIMARY = f"new:{Fernet.generate_key().decode()}"


def add_account(*args: str) -> str:
    out = io.StringIO()
    call_command("add_account", *args, stdout=out, stderr=out)
    return out.getvalue()


def raw_rows() -> list[str]:
    """Every account row as PostgreSQL prints it: what a database dump would contain."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM integrations_marketplaceaccount t")
        return [row[0] for row in cursor.fetchall()]


def audit_text() -> str:
    return " ".join(str(row) for row in AuditEvent.objects.values_list("action", "details", "object_id"))


@pytest.mark.django_db
class TestAddAccount:
    def test_ozon_create_then_update_by_name(self) -> None:
        out = add_account("ozon", "--name", "Shop", "--client-id", "42", "--api-key", CANARY)
        assert "Created account" in out and CANARY not in out and "••••5150" in out
        account = MarketplaceAccount.objects.get(name="Shop")
        assert (account.marketplace, account.client_id) == ("ozon", "42")
        assert account.get_credentials() == {"api_key": CANARY}
        assert account.credentials_hint == "••••5150"

        out = add_account("ozon", "--name", "Shop", "--client-id", "43", "--api-key", "second-key-9999")
        assert "Updated account" in out
        account = MarketplaceAccount.objects.get(name="Shop")
        assert MarketplaceAccount.objects.count() == 1
        assert account.client_id == "43"
        assert account.get_credentials() == {"api_key": "second-key-9999"}
        assert account.credentials_hint == "••••9999"
        assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
            "account.created",
            "account.key_changed",
        ]

    def test_rerun_with_same_values_changes_nothing(self) -> None:
        args = ("ozon", "--name", "Shop", "--client-id", "42", "--api-key", CANARY)
        add_account(*args)
        stored = MarketplaceAccount.objects.get().credentials_encrypted
        assert "Unchanged" in add_account(*args)
        assert MarketplaceAccount.objects.get().credentials_encrypted == stored
        assert AuditEvent.objects.count() == 1

    def test_wildberries_token_expiry_is_decoded_locally(self) -> None:
        base_url = "http://127.0.0.1:1/wb"
        out = add_account("wildberries", "--name", "WB", "--token", sandbox.WB_TOKEN, "--base-url", base_url)
        account = MarketplaceAccount.objects.get(name="WB")
        assert account.token_expires_at == sandbox.WB_TOKEN_EXPIRES_AT
        assert account.get_credentials() == {"token": sandbox.WB_TOKEN}
        assert account.base_url == "http://127.0.0.1:1/wb"
        assert "token expires 2027-04-30" in out
        add_account("wildberries", "--name", "WB", "--token", "not-a-jwt")
        account.refresh_from_db()
        assert account.token_expires_at is None
        assert account.get_credentials() == {"token": "not-a-jwt"}

    def test_yandex_market_with_campaigns(self) -> None:
        add_account(
            "yandex_market", "--name", "YM", "--api-key", CANARY, "--business-id", "700100", "--campaign-ids", "1, 2"
        )
        account = MarketplaceAccount.objects.get(name="YM")
        assert (account.business_id, account.campaign_ids) == ("700100", [1, 2])
        assert account.get_credentials() == {"api_key": CANARY}
        add_account("yandex_market", "--name", "YM", "--api-key", CANARY, "--business-id", "700200")
        account.refresh_from_db()
        assert (account.business_id, account.campaign_ids) == ("700200", [1, 2])
        assert AuditEvent.objects.filter(action="account.updated").get().details["changed"] == ["business_id"]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("ozon", "--name", "A", "--api-key", "k"), "client_id is required"),
            (("ozon", "--name", "A", "--client-id", "1"), "API key is required"),
            (("yandex_market", "--name", "A", "--api-key", "k"), "business_id is required"),
            (("wildberries", "--name", "A", "--api-key", "k"), "uses --token"),
            (
                ("yandex_market", "--name", "A", "--api-key", "k", "--business-id", "1", "--campaign-ids", "x"),
                "numbers",
            ),
        ],
    )
    def test_invalid_input_is_refused(self, args: tuple[str, ...], message: str) -> None:
        with pytest.raises(CommandError, match=message):
            add_account(*args)
        assert not MarketplaceAccount.objects.exists()
        assert not AuditEvent.objects.exists()

    def test_name_of_another_marketplace_is_refused(self) -> None:
        add_account("wildberries", "--name", "Shop", "--token", "t")
        with pytest.raises(CommandError, match="already exists for Wildberries"):
            add_account("ozon", "--name", "Shop", "--client-id", "1", "--api-key", "k")
        assert MarketplaceAccount.objects.get().marketplace == "wildberries"


@pytest.mark.django_db
def test_stored_secret_is_not_readable_in_the_database() -> None:
    add_account("ozon", "--name", "Shop", "--client-id", "42", "--api-key", CANARY)
    rows = raw_rows()
    assert len(rows) == 1
    assert CANARY not in rows[0]
    assert "enc:fernet:" in rows[0]
    # Not a reversible encoding either: without the key nothing opens it.
    stored = MarketplaceAccount.objects.get().credentials_encrypted
    other_key = f"other:{Fernet.generate_key().decode()}"
    with override_settings(FIELD_ENCRYPTION_KEYS=other_key), pytest.raises(crypto.DecryptionError):
        MarketplaceAccount.objects.get().get_credentials()
    assert stored.startswith(f"enc:fernet:{crypto.keyring().primary_id}:")


def test_wb_token_expiry_rejects_garbage() -> None:
    assert wb_token_expiry("a.b.c") is None
    assert wb_token_expiry("only-one-part") is None
    assert wb_token_expiry(sandbox.WB_TOKEN) == sandbox.WB_TOKEN_EXPIRES_AT


@pytest.mark.django_db
class TestRotation:
    def _accounts(self) -> list[MarketplaceAccount]:
        return [
            make_account("ozon", secret=CANARY),
            make_account("wildberries", secret="wb-token-2"),
            make_account("yandex_market", secret="ym-key-3"),
        ]

    def test_rotate_keys_reencrypts_under_the_new_primary(self) -> None:
        with override_settings(FIELD_ENCRYPTION_KEYS=OLD_KEYS):
            accounts = self._accounts()
            assert {crypto.key_id_of(a.credentials_encrypted) for a in accounts} == {"old"}
        with override_settings(FIELD_ENCRYPTION_KEYS=f"{NEW_PRIMARY},{OLD_KEYS}"):
            out = io.StringIO()
            call_command("rotate_keys", "--batch-size", "2", stdout=out)
            assert "Re-encrypted: 3" in out.getvalue()
            assert "already on the primary key: 0" in out.getvalue()
            stored = list(MarketplaceAccount.objects.order_by("pk"))
            assert {crypto.key_id_of(a.credentials_encrypted) for a in stored} == {"new"}
            assert stored[0].get_credentials() == {"api_key": CANARY}
            out = io.StringIO()
            call_command("rotate_keys", stdout=out)
            assert "Re-encrypted: 0; already on the primary key: 3" in out.getvalue()
        # The old key can now be removed: everything opens with the new key alone...
        with override_settings(FIELD_ENCRYPTION_KEYS=NEW_PRIMARY):
            assert [a.get_credentials() for a in MarketplaceAccount.objects.order_by("pk")] == [
                {"api_key": CANARY},
                {"token": "wb-token-2"},
                {"api_key": "ym-key-3"},
            ]
        # ...and the old key alone no longer opens anything.
        with override_settings(FIELD_ENCRYPTION_KEYS=OLD_KEYS), pytest.raises(crypto.DecryptionError):
            MarketplaceAccount.objects.first().get_credentials()  # type: ignore[union-attr]
        event = AuditEvent.objects.get(action="accounts.keys_rotated")
        assert event.details["rotated"] == 3 and event.details["primary_key_id"] == "new"
        assert CANARY not in audit_text()

    def test_unopenable_secret_is_reported_not_overwritten(self) -> None:
        with override_settings(FIELD_ENCRYPTION_KEYS=OLD_KEYS):
            good = make_account("ozon", secret="good-key")
        with override_settings(FIELD_ENCRYPTION_KEYS=f"lost:{Fernet.generate_key().decode()}"):
            lost = make_account("wildberries", secret="lost-token")
        lost_ciphertext = lost.credentials_encrypted
        with override_settings(FIELD_ENCRYPTION_KEYS=f"{NEW_PRIMARY},{OLD_KEYS}"):
            with pytest.raises(CommandError, match=f"account\\(s\\) {lost.pk}"):
                call_command("rotate_keys", stdout=io.StringIO())
            good.refresh_from_db()
            lost.refresh_from_db()
            assert crypto.key_id_of(good.credentials_encrypted) == "new"
            assert lost.credentials_encrypted == lost_ciphertext


@pytest.mark.django_db(transaction=True)
def test_rotation_skips_rows_locked_by_someone_else() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=OLD_KEYS):
        locked, free = make_account("ozon", secret="k1-locked"), make_account("ozon", secret="k2-free")
    holding, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                MarketplaceAccount.objects.select_for_update().get(pk=locked.pk)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    worker = threading.Thread(target=hold_lock)
    worker.start()
    try:
        assert holding.wait(10)
        with override_settings(FIELD_ENCRYPTION_KEYS=f"{NEW_PRIMARY},{OLD_KEYS}"):
            result = accounts_rotate_keys()
    finally:
        release.set()
        worker.join()
    assert (result.rotated, result.skipped_locked, result.failed) == (1, 1, [])
    locked.refresh_from_db()
    free.refresh_from_db()
    assert crypto.key_id_of(free.credentials_encrypted) == "new"
    assert crypto.key_id_of(locked.credentials_encrypted) == "old"
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{NEW_PRIMARY},{OLD_KEYS}"):
        assert accounts_rotate_keys().rotated == 1  # the re-run finishes the job


@pytest.mark.django_db
class TestWebAndAdmin:
    def test_settings_form_creates_and_replaces_keys_without_showing_them(self) -> None:
        admin = make_user(Role.ADMIN)
        client = client_for(admin)
        response = client.post(
            "/settings/accounts/new/",
            {"marketplace": "ozon", "name": "Web Ozon", "client_id": "7", "secret": CANARY, "enabled": "on",
             "base_url": CLOSED_PORT},
            follow=True,
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert CANARY not in page and "••••5150" in page
        account = MarketplaceAccount.objects.get(name="Web Ozon")
        assert account.get_credentials() == {"api_key": CANARY}
        created = AuditEvent.objects.get(action="account.created")
        assert created.actor == admin and created.details["key_hint"] == "••••5150"

        # Edit without a key: the stored ciphertext stays as it is.
        stored = account.credentials_encrypted
        edit = client.get(f"/settings/accounts/{account.pk}/").content.decode()
        assert CANARY not in edit and stored not in edit and "••••5150" in edit
        client.post(
            f"/settings/accounts/{account.pk}/",
            {"name": "Web Ozon 2", "client_id": "7", "enabled": "on", "base_url": CLOSED_PORT},
        )
        account.refresh_from_db()
        assert (account.name, account.credentials_encrypted) == ("Web Ozon 2", stored)
        assert AuditEvent.objects.get(action="account.updated").details["changed"] == ["name"]

        # A new key re-encrypts.
        client.post(
            f"/settings/accounts/{account.pk}/",
            {"name": "Web Ozon 2", "client_id": "7", "secret": "replacement-key-4321", "enabled": "on",
             "base_url": CLOSED_PORT},
        )
        account.refresh_from_db()
        assert account.credentials_encrypted != stored
        assert account.get_credentials() == {"api_key": "replacement-key-4321"}
        assert AuditEvent.objects.get(action="account.key_changed").details["key_hint"] == "••••4321"

    def test_invalid_form_does_not_echo_the_key(self) -> None:
        client = client_for(make_user(Role.ADMIN))
        data = {"marketplace": "ozon", "name": "No client", "secret": CANARY}
        response = client.post("/settings/accounts/new/", data)
        assert response.status_code == 200
        assert "Для Ozon нужен Client ID" in response.content.decode()
        assert CANARY not in response.content.decode()
        assert not MarketplaceAccount.objects.exists()

    def test_admin_never_shows_ciphertext_and_accepts_a_write_only_key(self) -> None:
        admin = make_user(Role.ADMIN)
        client = client_for(admin)
        response = client.post(
            "/admin/integrations/marketplaceaccount/add/",
            {
                "marketplace": "yandex_market",
                "name": "Admin YM",
                "business_id": "1",
                "campaign_ids": "[]",
                "sync_intervals": "{}",
                "enabled": "on",
                "new_secret": CANARY,
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        account = MarketplaceAccount.objects.get(name="Admin YM")
        assert account.get_credentials() == {"api_key": CANARY}
        for url in [
            "/admin/integrations/marketplaceaccount/",
            f"/admin/integrations/marketplaceaccount/{account.pk}/change/",
            "/admin/core/auditevent/",
            f"/admin/core/auditevent/{AuditEvent.objects.get().pk}/change/",
        ]:
            page = client.get(url).content.decode()
            assert CANARY not in page, url
            assert account.credentials_encrypted not in page and "enc:fernet" not in page, url
        assert "••••5150" in client.get(f"/admin/integrations/marketplaceaccount/{account.pk}/change/").content.decode()

        # Saving the change form without a new key keeps the secret.
        stored = account.credentials_encrypted
        client.post(
            f"/admin/integrations/marketplaceaccount/{account.pk}/change/",
            {"name": "Admin YM", "business_id": "2", "campaign_ids": "[]", "sync_intervals": "{}", "enabled": "on"},
        )
        account.refresh_from_db()
        assert (account.business_id, account.credentials_encrypted) == ("2", stored)

    def test_api_shows_only_the_hint(self) -> None:
        make_account("ozon", secret=CANARY)
        body = client_for(make_user(Role.ADMIN)).get("/api/v1/accounts/").content.decode()
        assert "••••5150" in body
        assert CANARY not in body and "enc:fernet" not in body and "credentials_encrypted" not in body


@pytest.mark.django_db
def test_canary_key_never_reaches_logs_or_audit(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with override_settings(FIELD_ENCRYPTION_KEYS=OLD_KEYS):
        add_account("ozon", "--name", "Shop", "--client-id", "42", "--api-key", CANARY, "--base-url", CLOSED_PORT)
        add_account(
            "ozon", "--name", "Shop", "--client-id", "42", "--api-key", CANARY + "-v2", "--base-url", CLOSED_PORT
        )
        client = client_for(make_user(Role.ADMIN))
        account = MarketplaceAccount.objects.get()
        client.post(
            f"/settings/accounts/{account.pk}/",
            {"name": "Shop", "client_id": "42", "secret": CANARY, "base_url": CLOSED_PORT},
        )
        client.post("/settings/accounts/new/", {"marketplace": "ozon", "name": "Bad", "secret": CANARY})
        client.get("/settings/")
    with override_settings(FIELD_ENCRYPTION_KEYS=f"{NEW_PRIMARY},{OLD_KEYS}"):
        call_command("rotate_keys", stdout=io.StringIO())
    assert caplog.records, "the flow is expected to log something (axes, requests)"
    assert CANARY not in caplog.text
    assert all(CANARY not in str(r.args) for r in caplog.records)
    assert CANARY not in audit_text()
    assert AuditEvent.objects.filter(action__startswith="account.").count() == 3
