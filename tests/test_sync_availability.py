"""A stream the seller's subscription or token scope does not cover (a 403 from a data endpoint)
is marked "not available for this account" with the marketplace's message, retried daily, and
leaves the account and its other streams healthy; refused credentials still fail the account.
Through the real adapters against the in-process sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.roles import Role
from integrations.base import AuthError, NotAvailableError
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount, SyncRun, SyncState
from integrations.registry import get_client
from integrations.sandbox import credentials as sandbox_credentials
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.selectors import account_health, accounts_with_health
from integrations.sync import engine
from integrations.sync.schedule import UNAVAILABLE_RETRY_MINUTES, due_streams
from reviews.models import Review
from tests.foundation_support import make_user

pytestmark = pytest.mark.django_db

# The reviews method of each marketplace, as the sandbox sees it (prefix removed).
REVIEWS_PATH = {
    "ozon": "/v1/review/list",
    "wildberries": "/api/v1/feedbacks",
    "yandex_market": f"/v2/businesses/{sandbox_credentials.YM_BUSINESS_ID}/goods-feedback",
}
MESSAGE = {
    "ozon": "Premium Plus subscription only",
    "wildberries": "token scope not allowed",
    "yandex_market": "not allowed for the Api-Key",
}


def make_account(marketplace: str) -> MarketplaceAccount:
    account = MarketplaceAccount(marketplace=marketplace, name=f"{marketplace} shop",
                                 base_url=f"http://sandbox.test/{marketplace}")
    if marketplace == "ozon":
        account.client_id = sandbox_credentials.OZON_CLIENT_ID
        account.set_credentials({"api_key": sandbox_credentials.OZON_API_KEY})
    elif marketplace == "wildberries":
        account.set_credentials({"token": sandbox_credentials.WB_TOKEN})
    else:
        account.business_id = str(sandbox_credentials.YM_BUSINESS_ID)
        account.set_credentials({"api_key": sandbox_credentials.YM_API_KEY})
    account.save()
    return account


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld(SandboxConfig(seed=7, products=12, orders=20, start=datetime.now(UTC).replace(microsecond=0)))


@pytest.fixture
def connect(world: SandboxWorld) -> Callable[[MarketplaceAccount], object]:
    app = SandboxApp(world)
    clock = FakeClock()

    def client_for(account: MarketplaceAccount) -> object:
        return get_client(account, transport=SandboxTransport(app), clock=clock, limiter=LocalLimiter())

    return client_for


def run(account: MarketplaceAccount, stream: str, client: object) -> SyncRun:
    return engine.run_stream(account, stream, client=client, heartbeat=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_a_403_marks_only_that_stream_unavailable_and_the_account_stays_healthy(
    marketplace: str, world: SandboxWorld, connect: Callable[[MarketplaceAccount], object]
) -> None:
    account = make_account(marketplace)
    client = connect(account)
    run(account, "listings", client)
    world.faults.forbidden_paths = {REVIEWS_PATH[marketplace]}

    with pytest.raises(NotAvailableError):
        run(account, "reviews", client)
    questions = run(account, "questions", client)

    account.refresh_from_db()
    state = SyncState.objects.get(account=account, stream="reviews")
    assert state.unavailable_since is not None
    assert MESSAGE[marketplace] in state.unavailable_message  # the marketplace's own words
    assert account.last_error == "" and account.last_error_at is None
    assert account_health(account) == "ok"
    assert questions.status == SyncRun.Status.SUCCEEDED
    assert not SyncState.objects.filter(account=account, stream="questions", unavailable_since__isnull=False).exists()


def test_refused_credentials_still_fail_the_account(
    world: SandboxWorld, connect: Callable[[MarketplaceAccount], object]
) -> None:
    account = make_account("yandex_market")
    account.set_credentials({"api_key": "ACMA:wrong:key"})
    account.save()

    with pytest.raises(AuthError):
        run(account, "reviews", connect(account))

    account.refresh_from_db()
    assert "401" in account.last_error and account_health(account) == "error"
    assert not SyncState.objects.filter(account=account, unavailable_since__isnull=False).exists()


def test_a_403_while_the_auth_check_also_fails_fails_the_account(
    world: SandboxWorld, connect: Callable[[MarketplaceAccount], object]
) -> None:
    account = make_account("ozon")
    # The key stopped working for everything, the auth check's method included: not a subscription matter.
    world.faults.forbidden_paths = {"/v1/review/list", "/v1/roles"}

    with pytest.raises(NotAvailableError):
        run(account, "reviews", connect(account))

    account.refresh_from_db()
    assert account_health(account) == "error" and "403" in account.last_error
    assert not SyncState.objects.filter(account=account, unavailable_since__isnull=False).exists()


def test_an_unavailable_stream_is_retried_daily_and_a_success_clears_it(
    world: SandboxWorld, connect: Callable[[MarketplaceAccount], object]
) -> None:
    account = make_account("wildberries")
    client = connect(account)
    world.faults.forbidden_paths = {REVIEWS_PATH["wildberries"]}
    with pytest.raises(NotAvailableError):
        run(account, "reviews", client)
    started = SyncRun.objects.get(account=account, stream="reviews").started_at

    def due_reviews(now: datetime) -> list[str]:
        return [d.stream for d in due_streams(["reviews", "questions"], now=now) if d.account_id == account.pk]

    assert due_reviews(started + timedelta(hours=2)) == ["questions"]  # reviews: every 15 minutes otherwise
    due = due_streams(["reviews"], now=started + timedelta(days=1))
    assert [(d.stream, d.interval_minutes) for d in due] == [("reviews", UNAVAILABLE_RETRY_MINUTES)]

    world.faults.forbidden_paths = set()  # the seller subscribed
    assert run(account, "reviews", client).status == SyncRun.Status.SUCCEEDED

    state = SyncState.objects.get(account=account, stream="reviews")
    assert state.unavailable_since is None and state.unavailable_message == ""
    assert Review.objects.filter(account=account).exists()
    assert due_reviews(timezone.now() + timedelta(minutes=20)) == ["reviews", "questions"]


def test_the_settings_page_and_the_overview_show_the_unavailable_stream(
    world: SandboxWorld, connect: Callable[[MarketplaceAccount], object]
) -> None:
    account = make_account("ozon")
    world.faults.forbidden_paths = {REVIEWS_PATH["ozon"]}
    with pytest.raises(NotAvailableError):
        run(account, "reviews", connect(account))
    assert [s.stream for s in accounts_with_health().get(pk=account.pk).unavailable_streams] == ["reviews"]

    browser = Client()
    browser.force_login(make_user(Role.ADMIN))
    for path in ("/settings/", "/"):
        page = browser.get(path).content.decode()
        assert "reviews: недоступно для этого аккаунта" in page
        assert MESSAGE["ozon"] in page
