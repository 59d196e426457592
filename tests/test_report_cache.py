"""The profit and ABC pages read precomputed snapshots (analytics.report_cache): the same figures as the
reports' own SQL to the kopeck, recomputed after any change of what they read (a sync's roll-up change, a
cost price, a card, the tax settings), a page of rows at a time by keyset, and in a fixed number of queries."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import report_cache, report_views
from analytics.abc import abc_xyz
from analytics.ingest import ingest_finance
from analytics.models import ReportSnapshot, ReportSnapshotRow
from analytics.period import Period
from analytics.profit import DIMENSIONS, account_ids, profit_report
from core.roles import Role
from orders.ingest import ingest_orders
from pricing.models import LegalEntity
from tests.foundation_support import client_for, compile_translations, make_user
from tests.test_analytics_reports import _operation, _order, _week, dataset  # noqa: F401  (the fixed data set)

pytestmark = pytest.mark.django_db


def _figures(group: Any) -> tuple[Any, ...]:
    return (group.key, group.label, group.detail, group.product_id, dataclasses.astuple(group.figures))


def test_a_snapshot_holds_the_reports_own_figures_for_every_grouping(dataset: dict[str, Any]) -> None:  # noqa: F811
    week = _week()
    # 7/30/90 days: five groupings, two ABC measures, the advertising report
    assert report_cache.warm() == 3 * (len(DIMENSIONS) + 2 + 1)
    for dimension in DIMENSIONS:
        snapshot = report_cache.profit_snapshot(week, dimension, compute=False)
        assert snapshot is not None
        live = profit_report(week, dimension)
        assert [_figures(g) for g in report_cache.all_groups(snapshot)] == [_figures(g) for g in live.groups]
        assert dataclasses.astuple(report_cache.total_of(snapshot)) == dataclasses.astuple(live.total)
    snapshot = report_cache.profit_snapshot(week, "product", compute=False)
    assert snapshot is not None
    kettle = next(g for g in report_cache.all_groups(snapshot) if g.label == "Чайник").figures
    assert (kettle.paid, kettle.cost, kettle.tax, kettle.profit, kettle.margin) == (
        D("754.25"), D("200.00"), D("60.00"), D("494.25"), D("49.4"))
    assert report_cache.total_of(snapshot).profit == D("745.24")
    for measure in ("revenue", "profit"):
        abc = report_cache.abc_snapshot(week, measure, compute=False)
        assert abc is not None
        live_matrix = abc_xyz(week, measure, account_ids())
        stored = report_cache.full_matrix(abc, week)
        assert [(i.group.key, i.measure, i.abc, i.cv, i.xyz) for i in stored.items] == [
            (i.group.key, i.measure, i.abc, i.cv, i.xyz) for i in live_matrix.items]
        assert report_cache.matrix_rows(abc) == live_matrix.rows()
    assert report_cache.warm() == 0  # nothing changed: nothing recomputed


def _kettle_paid(client: Any, query: str = "days=7&by=product") -> D:
    rows = client.get(f"/analytics/profit/?{query}").context["rows"]
    return next(g for g in rows if g.label == "Чайник").figures.paid


def test_a_sync_that_changes_the_roll_ups_makes_the_page_recompute(dataset: dict[str, Any]) -> None:  # noqa: F811
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    assert _kettle_paid(client) == D("754.25")
    first = ReportSnapshot.objects.get(kind="profit", option="product", start=_week().start)
    account, at = dataset["account"], dataset["at"]
    with transaction.atomic():  # the finance sync re-reads F1 with a larger commission, and a new sale
        ingest_finance(account.pk, [
            _operation("F1", "SKU-1", 2, "1000.00", at, commission="160.00", logistics="80.50", acquiring="15.25"),
            _operation("F4", "SKU-1", 1, "500.00", at, commission="75.00"),
        ])
    assert _kettle_paid(client) == D("744.25") + D("425.00")
    second = ReportSnapshot.objects.get(pk=first.pk)
    assert second.fingerprint != first.fingerprint
    with transaction.atomic():  # the orders sync: a new order of the mug
        ingest_orders(account.pk, [_order("O9", "SKU-2", 3, "333.33", at)])
    mug = next(g for g in client.get("/analytics/profit/?days=7").context["rows"] if g.label == "Кружка").figures
    assert (mug.orders, mug.units, mug.predicted) == (2, 4, D("1333.32"))
    abc = client.get("/analytics/abc/?days=7").context["matrix"]
    assert {i.group.label: i.measure for i in abc.items} == {"Чайник": D("1000.00"), "Кружка": D("1333.32")}


def test_a_cost_price_a_card_or_the_tax_changes_the_figures_at_once(dataset: dict[str, Any]) -> None:  # noqa: F811
    compile_translations()
    client = client_for(make_user(Role.ANALYST))

    def kettle() -> Any:
        rows = client.get("/analytics/profit/?days=7").context["rows"]
        return next(g for g in rows if g.key == f"p{dataset['one'].pk}")

    assert (kettle().figures.cost, kettle().figures.profit) == (D("200.00"), D("494.25"))
    dataset["one"].cost_price = D("150.00")
    dataset["one"].save()
    assert (kettle().figures.cost, kettle().figures.profit) == (D("300.00"), D("394.25"))
    dataset["one"].name = "Чайник электрический"
    dataset["one"].save()
    assert kettle().label == "Чайник электрический"
    LegalEntity.objects.update(tax_rate=D("15"))  # no trigger on the tax settings: they are in the fingerprint
    assert kettle().figures.tax == D("150.00")


def test_pages_read_the_snapshot_in_a_fixed_number_of_queries(
    dataset: dict[str, Any], django_assert_max_num_queries: Any,  # noqa: F811
) -> None:
    compile_translations()
    report_cache.warm()
    client = client_for(make_user(Role.ANALYST))
    client.get("/analytics/profit/?days=30")  # the session and role caches
    for path in ("/analytics/profit/?days=30", "/analytics/profit/?days=90&by=brand",
                 "/analytics/abc/?days=90", "/analytics/abc/?days=30&measure=profit&cell=AZ"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        assert len(queries) <= 10, (path, [q["sql"][:120] for q in queries])
        # Computed ahead: the page never reads the roll-ups, the cards or the products.
        heavy = ("analytics_salesdaily", "analytics_financedaily", "catalog_listing", "catalog_product")
        assert not any(table in q["sql"] for q in queries for table in heavy), path
    with django_assert_max_num_queries(10):
        client.get("/analytics/profit/?days=7&by=category")


def test_the_product_table_pages_by_keyset_over_the_snapshot(
    dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    compile_translations()
    monkeypatch.setattr(report_views, "PAGE_ROWS", 1)
    client = client_for(make_user(Role.ANALYST))
    first = client.get("/analytics/profit/?days=7")
    page = first.context["page"]
    assert [g.label for g in first.context["rows"]] == ["Чайник"] and page.has_next and page.count.value == 3
    assert 'rel="next"' in first.content.decode()
    second = client.get("/analytics/profit/" + page.next_url)
    assert [g.label for g in second.context["rows"]] == ["Кружка"]
    third = client.get("/analytics/profit/" + second.context["page"].next_url)
    assert [g.label for g in third.context["rows"]] == ["Удержания без артикула"]
    assert not third.context["page"].has_next
    assert third.context["report"].total.profit == D("745.24")  # the total of every row, on every page
    cell = client.get("/analytics/abc/?days=7&cell=AX")
    assert [i.group.label for i in cell.context["items"]] == ["Чайник"] and cell.context["page"].count.value == 2


def test_a_long_custom_period_is_not_computed_on_the_page(dataset: dict[str, Any]) -> None:  # noqa: F811
    compile_translations()
    client = client_for(make_user(Role.ANALYST))
    end = timezone.localdate()
    start = end - timedelta(days=200)
    for path in (f"/analytics/profit/?start={start}&end={end}", f"/analytics/abc/?start={start}&end={end}"):
        response = client.get(path)
        assert response.status_code == 200
        assert 'id="report-in-background"' in response.content.decode()
    assert not ReportSnapshot.objects.exists()
    # A custom period within three months is computed on its first view, then read.
    response = client.get(f"/analytics/profit/?start={end - timedelta(days=40)}&end={end}")
    assert response.context["report"].total.profit == D("745.24")
    assert ReportSnapshot.objects.count() == 1


def test_warm_deletes_old_snapshots(dataset: dict[str, Any]) -> None:  # noqa: F811
    period = Period(_week().start - timedelta(days=1), _week().end - timedelta(days=1))  # a custom period
    old = report_cache.profit_snapshot(period, "brand")
    assert old is not None and ReportSnapshotRow.objects.filter(snapshot=old).exists()
    ReportSnapshot.objects.filter(pk=old.pk).update(computed_at=timezone.now() - timedelta(days=2))
    report_cache.warm()
    assert not ReportSnapshot.objects.filter(pk=old.pk).exists()
    assert not ReportSnapshotRow.objects.filter(snapshot_id=old.pk).exists()


def test_warming_is_on_the_beat_schedule() -> None:
    from config.schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["warm-reports"]["task"] == "analytics.warm_reports"
