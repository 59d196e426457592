"""ABC and XYZ analysis of the products over a period, and their combined matrix.

ABC ranks products by a measure (revenue or profit): A are the top products that make the first
80 % of the total, B the next 15 %, C the rest (and every product whose measure is zero or a loss).
XYZ classes products by how steady their weekly demand is: the coefficient of variation of the
units sold per week (population standard deviation / mean over every week of the period, weeks
without sales counting as zero): X up to 10 %, Y up to 25 %, Z above (and products that sold nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from analytics.period import Period
from analytics.profit import Group, grouped
from core.money import RUB

A_SHARE = Decimal(80)
B_SHARE = Decimal(95)
X_CV = Decimal(10)
Y_CV = Decimal(25)
ABC = ("A", "B", "C")
XYZ = ("X", "Y", "Z")
MEASURES = ("revenue", "profit")


def abc_classes(measures: Mapping[str, Decimal]) -> dict[str, str]:
    """Item → A/B/C. An item is A while the running share *before* it is under 80 % (so the item that
    crosses 80 % is still A), B while under 95 %; ties broken by the key, so the result is stable."""
    positive = sorted(((value, key) for key, value in measures.items() if value > 0), key=lambda p: (-p[0], p[1]))
    total = sum((value for value, _ in positive), Decimal(0))
    classes = dict.fromkeys(measures, "C")
    running = Decimal(0)
    for value, key in positive:
        share = running * 100 / total
        classes[key] = "A" if share < A_SHARE else "B" if share < B_SHARE else "C"
        running += value
    return classes


def variation(weekly_units: Iterable[int]) -> Decimal | None:
    """Coefficient of variation in percent, or None when nothing sold (net of returns)."""
    weeks = [Decimal(units) for units in weekly_units]
    if not weeks or not any(weeks):
        return None
    mean = sum(weeks, Decimal(0)) / len(weeks)
    if mean <= 0:
        return None  # returns outweigh sales (units net of returns): no demand to measure
    variance = sum(((w - mean) ** 2 for w in weeks), Decimal(0)) / len(weeks)
    return (variance.sqrt() * 100 / mean).quantize(Decimal("0.1"))


def xyz_class(cv: Decimal | None) -> str:
    if cv is None:
        return "Z"
    return "X" if cv <= X_CV else "Y" if cv <= Y_CV else "Z"


# Units per product (or article without a product) per week of the period; the period's last
# `weeks` whole weeks ending on its last day. Read from the roll-up's listing link.
WEEKLY_SQL = """
    SELECT coalesce('p' || l.product_id, 'a' || s.account_id || ':' || s.offer_id) AS key,
           (%(end)s::date - s.day) / 7 AS week, sum(s.units - s.return_units) AS units
    FROM analytics_salesdaily s
    LEFT JOIN catalog_listing l ON l.id = s.listing_id
    WHERE s.account_id = ANY(%(accounts)s) AND s.day BETWEEN %(start)s AND %(end)s AND s.currency = %(currency)s
    GROUP BY 1, 2
"""


def weekly_units(period: Period, accounts: list[int], currency: str = RUB) -> tuple[int, dict[str, list[int]]]:
    weeks = max(period.days // 7, 1)
    start = period.end.toordinal() - weeks * 7 + 1
    params: dict[str, Any] = {"accounts": accounts, "start": period.start.fromordinal(start), "end": period.end,
              "currency": currency}
    series: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(WEEKLY_SQL, params)
        for key, week, units in cursor.fetchall():
            series.setdefault(key, [0] * weeks)[int(week)] = int(units)
    return weeks, series


@dataclass
class Item:
    group: Group
    measure: Decimal
    abc: str
    cv: Decimal | None
    xyz: str

    @property
    def cell(self) -> str:
        return self.abc + self.xyz


@dataclass
class Matrix:
    period: Period
    measure: str
    weeks: int
    items: list[Item]
    cells: dict[str, list[Item]] = field(default_factory=dict)

    def count(self, cell: str) -> int:
        return len(self.cells.get(cell, []))

    def rows(self) -> list[tuple[str, list[tuple[str, int, Decimal]]]]:
        """For the template: per ABC class, per XYZ class (cell, products, measure)."""
        return [
            (a, [(a + x, self.count(a + x), sum((i.measure for i in self.cells.get(a + x, [])), Decimal(0)))
                 for x in XYZ])
            for a in ABC
        ]


def abc_xyz(period: Period, measure: str, accounts: list[int], currency: str = RUB) -> Matrix:
    groups = grouped(period, "product", accounts, currency=currency)
    weeks, series = weekly_units(period, accounts, currency)
    return matrix_of_groups(period, measure, groups, weeks, series)


def matrix_of_groups(period: Period, measure: str, groups: list[Group], weeks: int,
                     series: Mapping[str, list[int]]) -> Matrix:
    """The matrix of the period's product groups (analytics.profit, by product) and weekly units."""
    # Products and articles; the account-level charges (no article) are no product to class.
    groups = [g for g in groups if not g.key.endswith(":")]
    value = {g.key: (g.figures.profit if measure == "profit" else g.figures.predicted) for g in groups}
    classes = abc_classes(value)
    items = []
    for group in groups:
        cv = variation(series.get(group.key, [0] * weeks))
        items.append(Item(group, value[group.key], classes[group.key], cv, xyz_class(cv)))
    items.sort(key=lambda i: (-i.measure, i.group.key))
    matrix = Matrix(period, measure, weeks, items)
    for item in items:
        matrix.cells.setdefault(item.cell, []).append(item)
    return matrix
