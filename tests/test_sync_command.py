"""`manage.py sync NAME [--only ...] [--full]` over real HTTP against the sandbox server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Listing
from integrations.models import MarketplaceAccount, SyncRun
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def server(settings) -> Iterator[SandboxServer]:
    settings.MARKETPLACE_LIMITS_ENABLED = False  # the sandbox does not limit; real waits would only slow the test
    world = SandboxWorld(SandboxConfig(seed=5, products=30, orders=40, start=datetime.now(UTC).replace(microsecond=0)))
    srv = SandboxServer(SandboxApp(world)).start()
    yield srv
    srv.stop()


def ym_account(server: SandboxServer, api_key: str = sandbox_credentials.YM_API_KEY) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace="yandex_market", name="Маркет", base_url=server.base_url("yandex_market"),
                                 business_id=str(sandbox_credentials.YM_BUSINESS_ID))
    account.set_credentials({"api_key": api_key})
    account.save()
    return account


def test_sync_command_runs_every_stream_and_prints_a_summary(server: SandboxServer, capsys) -> None:
    account = ym_account(server)

    call_command("sync", "Маркет", "--no-progress")

    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["stream", "status", "fetched", "created", "updated", "unchanged", "errors", "seconds"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert set(rows) == {"warehouses", "listings", "categories", "prices", "stocks", "orders", "returns", "sales",
                         "reviews", "questions", "promotions", "finance", "fees", "ads", "total"}
    assert rows["orders"][1] == "ok" and int(rows["orders"][3]) == Order.objects.filter(account=account).count() > 0
    assert int(rows["listings"][3]) == Listing.objects.filter(account=account).count() == 30
    account.refresh_from_db()
    assert account.last_success_at is not None and account.last_error == ""
    assert SyncRun.objects.filter(account=account, trigger="command", status="succeeded").count() == 14


def test_only_and_full_select_streams_and_rerun_everything(server: SandboxServer, capsys) -> None:
    account = ym_account(server)
    call_command("sync", "Маркет", "--only", "orders,listings", "--no-progress")
    capsys.readouterr()

    call_command("sync", "Маркет", "--only", "orders", "--full", "--no-progress")

    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == {"orders", "total"}
    fetched, created, updated, unchanged = map(int, rows["orders"][2:6])
    assert fetched == unchanged == Order.objects.filter(account=account).count() and created == updated == 0
    assert set(SyncRun.objects.filter(account=account).values_list("stream", flat=True)) == {"orders", "listings"}


def test_refused_credentials_exit_non_zero_without_showing_the_key(server: SandboxServer) -> None:
    ym_account(server, api_key="ACMA:wrong-key-1234567890")

    with pytest.raises(CommandError) as failure:
        call_command("sync", "Маркет", "--no-progress")

    assert "credentials refused" in str(failure.value) and "wrong-key" not in str(failure.value)
    assert "wrong-key" not in MarketplaceAccount.objects.get(name="Маркет").last_error


def test_a_failing_stream_makes_the_command_fail(server: SandboxServer, capsys, settings) -> None:
    settings.MARKETPLACE_MAX_RETRIES = 0  # fail at once instead of backing off in real time
    ym_account(server)
    server.app.world.faults.update({"server_error_ratio": 1.0})  # every request fails from now on
    with pytest.raises(CommandError, match="failed for: listings"):
        call_command("sync", "Маркет", "--only", "listings", "--no-progress")
    assert "listings  failed" in capsys.readouterr().out.replace("   ", "  ")


def test_unknown_account_or_stream_is_an_error() -> None:
    with pytest.raises(CommandError, match="No marketplace account"):
        call_command("sync", "nobody")
    account = MarketplaceAccount(marketplace="ozon", name="O")
    account.set_credentials({"api_key": "k"})
    account.save()
    with pytest.raises(CommandError, match="Unknown stream"):
        call_command("sync", "O", "--only", "orderz")
