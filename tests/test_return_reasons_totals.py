"""The returns by reason read through the per-article totals (orders.ReturnArticleTotal, kept by triggers):
the kept totals equal the returns' GROUP BY after every kind of write (the returns ingest, its linking
UPDATEs, ORM writes of every kind, an account's deletion, TRUNCATE), and the page's figures equal the plain
GROUP BY of the filtered returns for every filter, whether the bounded read settles or falls back."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Collate
from django.test.utils import CaptureQueriesContext

from core.roles import Role
from integrations.base import ReturnDTO
from integrations.models import MarketplaceAccount
from orders.filters import ReturnFilter
from orders.ingest import ingest_returns, link_waiting_to_listings
from orders.models import Return, ReturnArticleTotal
from orders.returns import ProductReturns, return_list, returns_by_reason
from tests.foundation_support import client_for, compile_translations, make_account, make_user

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
REASONS = ["Не подошёл размер", "Брак", "Не соответствует описанию", ""]
STATUSES = ["arrived", "on_way", "returned"]


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


def sums() -> dict[str, tuple[int, int]]:
    """What ReturnArticleTotal must hold: every return of each article, grouped."""
    rows = (
        Return.objects.exclude(offer_id="").order_by().values("offer_id")
        .annotate(returns=Count("id"), units=Sum("quantity"))
    )
    return {row["offer_id"]: (row["returns"], row["units"]) for row in rows}


def assert_totals_exact() -> None:
    kept = {t.offer_id: (t.returns, t.units) for t in ReturnArticleTotal.objects.all()}
    assert kept == sums()


def dto(external_id: str, offer: str, qty: int = 1, *, kind: str = "return", reason: str = "Брак",
        at: datetime = BASE, order: str = "") -> ReturnDTO:
    return ReturnDTO(external_id=external_id, kind=kind, returned_at=at, offer_id=offer, quantity=qty, reason=reason,
                     raw_status="arrived", amount=Decimal("100.00") * qty, order_external_id=order)


def sync(account: MarketplaceAccount, *returns: ReturnDTO) -> None:
    with transaction.atomic():
        ingest_returns(account.pk, returns)


def test_the_returns_ingest_keeps_the_totals_exact() -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    sync(ozon, dto("R1", "ART-1"), dto("R2", "ART-1", 2), dto("R3", "ART-2"), dto("R4", "", 3))
    sync(wb, dto("R1", "ART-1", 4), dto("R2", "ART-3"))
    assert_totals_exact()
    assert ReturnArticleTotal.objects.get(offer_id="ART-1").units == 7
    assert not ReturnArticleTotal.objects.filter(offer_id="").exists()

    # Read again: unchanged rows, then changes of quantity, reason, kind and article, and a new return.
    sync(ozon, dto("R1", "ART-1"), dto("R2", "ART-1", 2))
    assert_totals_exact()
    sync(ozon, dto("R1", "ART-1", 5, reason="Не подошёл размер", kind="unredeemed"), dto("R3", "ART-4"),
         dto("R4", "ART-2", 3), dto("R5", "ART-2"))
    assert_totals_exact()
    assert sums()["ART-2"] == (2, 4) and "ART-3" in sums()
    # An article whose last return moved to another article leaves no row.
    sync(wb, dto("R2", "ART-1"))
    assert_totals_exact()
    assert not ReturnArticleTotal.objects.filter(offer_id="ART-3").exists()

    # The linking UPDATEs (a listing stored after its returns) change no figure and keep the totals.
    from catalog.models import Listing

    Listing.objects.create(account=ozon, external_id="L-1", offer_id="ART-1", title="Платье")
    with transaction.atomic():
        link_waiting_to_listings(ozon.pk, ["ART-1"])
    assert Return.objects.filter(account=ozon, offer_id="ART-1", listing__isnull=False).count() == 2
    assert_totals_exact()


def test_orm_writes_of_every_kind_keep_the_totals_exact() -> None:
    ozon, wb = make_account("ozon"), make_account("wildberries")
    made = Return.objects.bulk_create(
        Return(account=[ozon, wb][i % 2], external_id=f"R{i}", offer_id=f"ART-{i % 5}", quantity=i % 4,
               returned_at=BASE)
        for i in range(30)
    )
    assert_totals_exact()
    single = Return.objects.create(account=ozon, external_id="X", offer_id="ART-9", quantity=2, returned_at=BASE)
    assert_totals_exact()
    single.quantity, single.reason = 7, "Брак"
    single.save()
    assert_totals_exact()
    Return.objects.filter(offer_id="ART-1").update(offer_id="ART-2")  # an article renamed
    Return.objects.filter(offer_id="ART-3").update(quantity=0)
    Return.objects.filter(pk=made[0].pk).update(offer_id="")  # its article is no longer known
    Return.objects.filter(account=wb).update(account=ozon)  # moved to another account: same articles
    assert_totals_exact()
    assert not ReturnArticleTotal.objects.filter(offer_id="ART-1").exists()
    assert ReturnArticleTotal.objects.get(offer_id="ART-3").units == 0
    Return.objects.filter(pk=made[0].pk).update(offer_id="ART-0")
    made[2].delete()
    Return.objects.filter(offer_id="ART-4").delete()
    assert_totals_exact()
    assert not ReturnArticleTotal.objects.filter(offer_id="ART-4").exists()
    Return.objects.create(account=wb, external_id="Y", offer_id="ART-4", returned_at=BASE)
    ozon.delete()  # its returns go with it
    assert_totals_exact()
    assert dict(ReturnArticleTotal.objects.values_list("offer_id", "units")) == {"ART-4": 1}
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred foreign keys' checks would forbid it
        cursor.execute("TRUNCATE orders_return")
    assert not ReturnArticleTotal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_syncs_of_one_article_each_add_their_own() -> None:
    """Two accounts' syncs store returns of the same articles at once: the second writes while the first has
    not committed (it waits on the article's row, then adds to what the first committed)."""
    ozon, wb = make_account("ozon"), make_account("wildberries")
    sync(ozon, dto("R0", "ART-OLD", 2))
    written, errors = threading.Event(), []

    def first() -> None:
        try:
            with transaction.atomic():
                ingest_returns(ozon.pk, [dto("R1", "ART-NEW", 3), dto("R0", "ART-OLD", 5), dto("R2", "ART-OLD")])
                written.set()
                time.sleep(0.5)  # the second sync writes meanwhile
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            written.set()
        finally:
            connection.close()

    worker = threading.Thread(target=first)
    worker.start()
    assert written.wait(timeout=10)
    sync(wb, dto("R1", "ART-NEW", 4), dto("R2", "ART-OLD", 1), dto("R3", "ART-NEW"))
    worker.join(timeout=30)
    assert not errors
    assert_totals_exact()
    assert dict(ReturnArticleTotal.objects.values_list("offer_id", "units")) == {"ART-NEW": 8, "ART-OLD": 7}


def test_rebuild_restores_totals_written_past_the_triggers() -> None:
    account = make_account("ozon")
    sync(account, dto("R1", "ART-1", 2), dto("R2", "ART-2"), dto("R3", "ART-2"))
    ReturnArticleTotal.objects.filter(offer_id="ART-1").update(units=99)
    ReturnArticleTotal.objects.create(offer_id="ART-GONE", returns=1, units=1)
    with connection.cursor() as cursor:  # as a restore or a replica's apply leaves it: no triggers fire
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM orders_return WHERE external_id = 'R3'")
        cursor.execute("SET session_replication_role = origin")
    out = io.StringIO()
    call_command("rebuild_return_totals", stdout=out)
    assert out.getvalue().startswith("2 articles, 3 corrected")
    assert_totals_exact()


# ---------------------------------------------------------------------------------------------
# The page against the plain GROUP BY


def seed() -> tuple[MarketplaceAccount, MarketplaceAccount, MarketplaceAccount]:
    """Articles whose ranks differ by marketplace, kind, status, reason and day; ties in units and in returns
    (so the article breaks them); returns of no units and of no amount."""
    ozon, wb, ym = make_account("ozon"), make_account("wildberries"), make_account("yandex_market")
    rows = []
    for i in range(240):
        account = [ozon, wb, ym][i % 3 if i % 7 else 0]
        rows.append(Return(
            account=account, external_id=f"R-{i}", order_external_id=f"O-{i}",
            offer_id="" if i % 41 == 0 else f"ART-{(i * 7) % 23:02d}" if i % 5 else f"ТОВАР-{i % 4}",
            kind=[Return.Kind.RETURN, Return.Kind.UNREDEEMED, Return.Kind.CANCELLATION][(i // 2) % 3],
            quantity=(i * 3) % 4, reason=REASONS[(i // 3) % 4], raw_status=STATUSES[i % 3],
            amount=None if i % 11 == 0 else Decimal("50.00") * (1 + i % 6), returned_at=BASE - timedelta(hours=5 * i),
        ))
    Return.objects.bulk_create(rows)
    return ozon, wb, ym


def expected(params: dict[str, str], top: int) -> list[tuple[Any, ...]]:
    base = ReturnFilter(params, queryset=Return.objects.all()).qs.exclude(offer_id="").order_by()
    totals = list(
        base.values("offer_id").annotate(returns=Count("id"), units=Sum("quantity"), amount=Sum("amount"))
        .order_by("-units", "-returns", Collate("offer_id", "C"))[:top]
    )
    result = []
    for row in totals:
        reasons = (
            base.filter(offer_id=row["offer_id"]).values("reason")
            .annotate(returns=Count("id"), units=Sum("quantity"), amount=Sum("amount")).order_by("-units", "reason")
        )
        result.append((row["offer_id"], row["returns"], row["units"], row["amount"] or Decimal(0),
                       [(r["reason"], r["returns"], r["units"], r["amount"]) for r in reasons]))
    return result


def shown(products: list[ProductReturns]) -> list[tuple[Any, ...]]:
    return [
        (p.offer_id, p.returns, p.units, p.amount, [(r["reason"], r["returns"], r["units"], r["amount"])
                                                     for r in p.reasons])
        for p in products
    ]


def filters(ozon: MarketplaceAccount, wb: MarketplaceAccount) -> list[dict[str, str]]:
    return [
        {}, {"marketplace": "wildberries"}, {"account": str(ozon.pk)}, {"kind": "return"}, {"kind": "unredeemed"},
        {"status": "on_way"}, {"reason": "Брак"}, {"reason": ""}, {"returned_from": "2026-04-05"},
        {"returned_to": "2026-04-03"}, {"returned_from": "2026-04-02", "returned_to": "2026-04-06"},
        {"q": "ART-07"}, {"q": "R-1"}, {"q": "ТОВАР-2", "kind": "return"},
        {"marketplace": "ozon", "kind": "unredeemed", "status": "returned", "returned_from": "2026-04-01"},
        {"account": str(wb.pk), "reason": "Не подошёл размер"},
    ]


def test_the_figures_equal_the_plain_group_by_under_every_filter() -> None:
    ozon, wb, _ = seed()
    for params in filters(ozon, wb):
        queryset = ReturnFilter(params, queryset=return_list()).qs
        for top in (1, 3, 20):
            want = expected(params, top)
            # The page's rounds, rounds of a few articles (several before settling or falling back), one round.
            for rounds in [(200, 2000), (2, 3, 5), (4,), (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)]:
                got = returns_by_reason(queryset, top, searched=bool(params.get("q")), rounds=rounds)
                assert shown(got) == want, (params, top, rounds)
            assert shown(returns_by_reason(queryset, top, searched=False, rounds=(3, 3))) == want


def test_the_figures_follow_the_writes_at_once() -> None:
    ozon, wb, ym = seed()
    queryset = ReturnFilter({}, queryset=return_list()).qs
    before = shown(returns_by_reason(queryset, 5))
    leader = before[0][0]
    # An ingest read: two of the leader's returns come back as another article's, of more units, kind and
    # reason; the ORM zeroes the rest of the leader's, deletes the runner-up's, moves an account's returns to
    # another, changes the reason and kind of the third's, the status and day of the fourth's.
    moved = list(Return.objects.filter(offer_id=leader, account=ozon).values_list("external_id", flat=True)[:2])
    assert len(moved) == 2
    sync(ozon, *(dto(external_id, "ART-NEW", 9) for external_id in moved))
    Return.objects.filter(offer_id=leader).update(quantity=0)
    Return.objects.filter(offer_id=before[1][0]).delete()
    Return.objects.filter(account=ym).update(account=wb)
    Return.objects.filter(offer_id=before[2][0]).update(reason="Брак", kind=Return.Kind.CANCELLATION)
    Return.objects.filter(offer_id=before[3][0], raw_status="arrived").update(raw_status="on_way", returned_at=BASE)
    for params in filters(ozon, wb):
        queryset = ReturnFilter(params, queryset=return_list()).qs
        assert shown(returns_by_reason(queryset, 5, searched=bool(params.get("q")))) == expected(params, 5), params
    assert shown(returns_by_reason(ReturnFilter({}, queryset=return_list()).qs, 1))[0][:3] == ("ART-NEW", 2, 18)


def test_unfiltered_the_page_reads_the_top_articles_returns_only() -> None:
    seed()
    base = ReturnFilter({}, queryset=return_list()).qs
    with CaptureQueriesContext(connection) as queries:
        got = returns_by_reason(base, 3, rounds=(5,))
    grouped = [q["sql"] for q in queries.captured_queries if 'FROM "orders_return"' in q["sql"]]
    assert grouped and all('"orders_return"."offer_id" IN (' in sql for sql in grouped)
    assert shown(got) == expected({}, 3)
    # Filters few of the most returned articles match: one GROUP BY of the filtered returns.
    narrow = ReturnFilter({"kind": "cancellation", "status": "on_way"}, queryset=return_list()).qs
    with CaptureQueriesContext(connection) as queries:
        got = returns_by_reason(narrow, 3, rounds=(5, 50))
    assert any(
        'FROM "orders_return"' in q["sql"] and '"orders_return"."offer_id" IN (' not in q["sql"]
        for q in queries.captured_queries
    )
    assert shown(got) == expected({"kind": "cancellation", "status": "on_way"}, 3)


def test_the_page_under_each_filter(django_assert_max_num_queries: Any) -> None:
    ozon, wb, _ = seed()
    client = client_for(make_user(Role.ANALYST))
    for params in filters(ozon, wb):
        with django_assert_max_num_queries(15):
            response = client.get("/orders/returns/reasons/", params)
        assert response.status_code == 200
        assert shown(response.context["products"]) == expected(params, 20), params
