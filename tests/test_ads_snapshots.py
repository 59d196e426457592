"""The advertising page and its exports read the report's snapshot (analytics.report_cache.ads_snapshot): the
rows and totals of analytics.ads.ads_report to the kopeck, recomputed after a change of the ad statistics,
the sales roll-ups (per article and per day) or the cards, paged by keyset over the rows' positions (every
row once), in a fixed number of queries that never touch the statistics; a long custom period is built in the
background. On the fixed data set of tests/test_ads.py, with more cards (ties of spend, a second account)."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import ads as ads_selectors
from analytics import report_cache
from analytics.ads import accounts_of, ads_report, encode_cursor, ingest_ad_stats
from analytics.models import AdSpendDaily, ReportSnapshot, SalesDayTotal
from analytics.period import Period
from catalog.models import Listing
from core.roles import Role
from orders.ingest import ingest_orders
from tests.foundation_support import client_for, compile_translations, make_account, make_user
from tests.test_ads import _ad, _order, _week, dataset  # noqa: F401  (the fixed data set)

pytestmark = pytest.mark.django_db


@pytest.fixture
def more_cards(dataset: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """Ten more Ozon cards (three of them spending 7.00 each: the order is the article's, descending) and a
    Wildberries account with four cards; 17 rows in all."""
    ozon, day = dataset["account"], dataset["day"]
    wb = make_account("wildberries", name="WB main")
    for n in range(10):
        Listing.objects.create(account=ozon, external_id=f"x{n}", offer_id=f"OZ-{n:02}", marketplace_sku=f"20{n:02}",
                               title=f"Товар {n}")
    for n in range(4):
        Listing.objects.create(account=wb, external_id=f"w{n}", offer_id=f"WB-{n}", marketplace_sku=f"30{n:02}",
                               title=f"Карточка WB {n}")
    with transaction.atomic():
        ingest_ad_stats(ozon.pk, [_ad(day, "601", f"20{n:02}", "7.00" if n < 3 else f"{n}.{n}0", 100 + n, n, n % 2,
                                      "0") for n in range(10)])
        ingest_ad_stats(wb.pk, [_ad(day, "77", f"30{n:02}", f"{20 + n}.05", 1000, 10 * n, n, f"{n}00.00")
                                for n in range(4)])
        ingest_orders(wb.pk, [_order("W1", "WB-1", 3, "410.00", timezone.now() - timedelta(days=1))])
    return {**dataset, "wb": wb}


def _rows(report: Any) -> list[tuple[Any, ...]]:
    return [dataclasses.astuple(r) for r in report.rows]


def _totals(report: Any) -> tuple[Any, ...]:
    return ({mp: dataclasses.astuple(f) for mp, f in report.by_marketplace.items()}, dataclasses.astuple(report.total))


def _stored(period: Period, marketplace: str = "") -> Any:
    accounts = accounts_of(marketplace)
    snapshot = report_cache.ads_snapshot(period, accounts, marketplace, compute=False)
    assert snapshot is not None
    return report_cache.ads_of(snapshot, period, marketplace, accounts, report_cache.all_ad_rows(snapshot))


def test_the_snapshot_holds_the_reports_own_rows_and_totals(more_cards: dict[str, Any]) -> None:
    week = _week()
    assert report_cache.warm() == 3 * (5 + 2 + 1)  # the ads presets with the profit and ABC ones
    stored, live = _stored(week), ads_report(week, accounts_of(), limit=None)
    assert len(stored.rows) == 17 and _rows(stored) == _rows(live) and _totals(stored) == _totals(live)
    kettle = stored.rows[0]  # before the WB cards of 20.05 to 23.05
    assert (kettle.offer_id, kettle.title, kettle.campaigns, kettle.listing_id, kettle.figures.spend,
            kettle.figures.revenue, kettle.figures.drr) == (
        "SKU-1", "Чайник электрический", 2, Listing.objects.get(offer_id="SKU-1").pk, D("85.10"), D("1000.00"),
        D("8.5"))
    assert [r.offer_id for r in stored.rows if r.figures.spend == D("7.00")] == ["OZ-02", "OZ-01", "OZ-00"]
    assert (stored.by_marketplace["ozon"].spend, stored.by_marketplace["wildberries"].spend) == (D("172.20"),
                                                                                                   D("86.20"))
    assert (stored.total.spend, stored.total.revenue) == (D("258.40"), D("2563.33"))
    assert report_cache.warm() == 0  # nothing changed: nothing recomputed
    # A marketplace's filter is computed on its first view, from the same code.
    client = client_for(make_user(Role.ANALYST))
    page = client.get("/analytics/ads/?days=90&marketplace=wildberries").context["report"]
    ninety = Period(week.end - timedelta(days=89), week.end, 90)
    live_wb = ads_report(ninety, accounts_of("wildberries"), limit=None)
    assert _rows(page) == _rows(live_wb)
    assert _totals(page) == _totals(live_wb) == _totals(_stored(ninety, "wildberries"))
    assert [r.offer_id for r in page.rows] == ["WB-3", "WB-2", "WB-1", "WB-0"]
    assert page.rows[2].figures.drr == D("1.7")  # 21.05 of 1,230.00


def _page_spend(client: Any, query: str = "days=7") -> dict[str, D]:
    report = client.get(f"/analytics/ads/?{query}").context["report"]
    return {r.offer_id: r.figures.spend for r in report.rows} | {"*": report.total.spend, "rev": report.total.revenue}


def test_a_change_of_the_ad_statistics_or_the_sales_makes_the_next_view_recompute(dataset: dict[str, Any]) -> None:  # noqa: F811
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    assert _page_spend(client)["SKU-1"] == D("85.10")
    snapshot = ReportSnapshot.objects.get(kind="ads", start=_week().start)
    account, day = dataset["account"], dataset["day"]

    def fingerprint() -> str:
        return ReportSnapshot.objects.get(pk=snapshot.pk).fingerprint

    first = fingerprint()
    with transaction.atomic():  # the ads sync re-reads a row with more spend (an update) …
        ingest_ad_stats(account.pk, [_ad(day, "502", "1001", "40.00", 300, 10, 0, "0")])
    assert _page_spend(client)["SKU-1"] == D("100.10") and fingerprint() != first
    second = fingerprint()
    with transaction.atomic():  # … and a new campaign of the mug (an insert)
        ingest_ad_stats(account.pk, [_ad(day, "503", "1002", "1.10", 10, 1, 0, "0")])
    assert _page_spend(client)["SKU-2"] == D("16.00") and fingerprint() != second
    AdSpendDaily.objects.filter(item_ref="9999").delete()  # an edit in the admin
    assert "" not in _page_spend(client)
    with transaction.atomic():  # the orders sync: another kettle (SalesDaily and SalesDayTotal)
        ingest_orders(account.pk, [_order("O3", "SKU-1", 1, "500.00", timezone.now() - timedelta(days=1))])
    report = client.get("/analytics/ads/?days=7").context["report"]
    assert (report.rows[0].figures.revenue, report.rows[0].figures.drr, report.total.revenue) == (
        D("1500.00"), D("6.7"), D("1833.33"))
    SalesDayTotal.objects.filter(account=account).update(revenue=F("revenue") + 100)  # the per-day totals alone
    assert _page_spend(client)["rev"] == D("1933.33")
    assert ReportSnapshot.objects.filter(kind="ads").count() == 1  # replaced in place


def test_the_pages_give_every_row_once_in_the_reports_order(
    more_cards: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ads_selectors, "PAGE_SIZE", 4)
    client = client_for(make_user(Role.MANAGER))
    seen: list[tuple[Any, ...]] = []
    after = ""
    for _ in range(10):
        response = client.get("/analytics/ads/", {"days": "7", **({"after": after} if after else {})})
        report = response.context["report"]
        assert len(report.rows) <= 4 and report.total.spend == D("258.40")  # the totals on every page
        assert bool(report.after) == bool(after)
        if report.next_cursor:
            assert f"after={report.next_cursor}" in response.content.decode()
        seen += _rows(report)
        after = report.next_cursor
        if not after:
            break
    assert seen == _rows(ads_report(_week(), accounts_of(), limit=None)) and len(seen) == 17
    # A link with the live report's cursor (before the snapshots) or a broken one: the first page.
    first = _rows(client.get("/analytics/ads/?days=7").context["report"])
    for cursor in (encode_cursor(D("7.00"), more_cards["account"].pk, "OZ-01"), "not-a-cursor"):
        response = client.get("/analytics/ads/", {"days": "7", "after": cursor})
        assert response.status_code == 200 and _rows(response.context["report"]) == first


def test_the_export_holds_the_pages_rows(more_cards: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    compile_translations()
    monkeypatch.setattr(ads_selectors, "PAGE_SIZE", 5)
    client = client_for(make_user(Role.ANALYST))
    paged: list[Any] = []
    after = ""
    while True:
        report = client.get("/analytics/ads/", {"days": "30", "after": after}).context["report"]
        paged += report.rows
        after = report.next_cursor
        if not after:
            break
    text = b"".join(client.get("/analytics/ads.csv?days=30").streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert [(line[1], line[2], line[3], D(line[5].replace(",", ".")), int(line[6])) for line in lines] == [
        (r.account_name, r.offer_id or r.item_ref, r.title, r.figures.spend, r.figures.views) for r in paged]
    assert len(lines) == 17


def test_the_page_reads_the_snapshot_in_a_fixed_number_of_queries(
    more_cards: dict[str, Any], django_assert_max_num_queries: Any,
) -> None:
    compile_translations()
    report_cache.warm()
    client = client_for(make_user(Role.ANALYST))
    client.get("/analytics/ads/?days=30")  # the session and role caches
    for path in ("/analytics/ads/?days=30", "/analytics/ads/?days=90", "/analytics/ads/?days=7&marketplace=ozon",
                 "/analytics/ads.csv?days=30"):
        client.get(path)  # a filter's first view computes it
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        own = [q["sql"] for q in queries if "django_session" not in q["sql"] and "auth_" not in q["sql"]]
        assert len(own) <= 6, (path, [q[:120] for q in own])
        heavy = ("analytics_adspenddaily", "analytics_salesdaily", "analytics_salesdaytotal", "catalog_listing")
        assert not any(table in q["sql"] for q in queries for table in heavy), path
    with django_assert_max_num_queries(10):
        client.get("/analytics/ads/?days=7")


def test_a_long_custom_period_is_built_in_the_background(
    dataset: dict[str, Any], django_capture_on_commit_callbacks: Any, eager_celery: None,  # noqa: F811
) -> None:
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    end = timezone.localdate()
    start = end - timedelta(days=120)
    response = client.get(f"/analytics/ads/?start={start}&end={end}")
    assert response.status_code == 200 and 'id="report-in-background"' in response.content.decode()
    assert not ReportSnapshot.objects.exists()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(f"/analytics/ads.csv?start={start}&end={end}")
    assert response.status_code == 302 and len(callbacks) == 1
    job_url = response["Location"]
    assert 'href="/analytics/ads/"' in client.get(job_url).content.decode()
    lines = list(csv.reader(io.StringIO(client.get(job_url + "download/").content.decode("utf-8-sig")),
                            delimiter=";"))
    assert [(line[2], line[5]) for line in lines[1:]] == [("SKU-1", "85,10"), ("SKU-2", "14,90"), ("9999", "5,00")]
    # Within three months a custom period is computed on its first view, then read.
    response = client.get(f"/analytics/ads/?start={end - timedelta(days=40)}&end={end}")
    assert response.context["report"].total.spend == D("105.00") and "report-in-background" not in (
        response.content.decode())
    assert ReportSnapshot.objects.filter(kind="ads", start=end - timedelta(days=40)).exists()
