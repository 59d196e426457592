"""Wildberries fee rates (10-rates): commission per subject and sales model
(GET common-api /api/v1/tariffs/commission) and box tariffs per warehouse
(GET common-api /api/v1/tariffs/box: logistics by litre, storage per day by litre).

Cards name their subject (Listing.category = subjectName), so commissions are stored per
category. Box tariffs differ by warehouse; the dearest warehouse is kept, so a floor built on it
never gives a loss wherever the card ships from.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import Field

from core.money import MoneyParseError, to_decimal
from integrations.base import FeeRateDTO, Page
from integrations.payloads import payload
from integrations.wildberries.limits import Bucket, Host

if TYPE_CHECKING:
    from integrations.wildberries.client import WildberriesClient


@payload
class SubjectCommission:  # Fee.report[]
    subjectName: str = ""
    kgvpMarketplace: Decimal | None = None
    kgvpSupplier: Decimal | None = None
    kgvpSupplierExpress: Decimal | None = None
    paidStorageKgvp: Decimal | None = None


@payload
class CommissionReport:  # Fee
    report: list[SubjectCommission] = Field(default_factory=list)


@payload
class BoxRates:  # models.WarehouseBoxRates: money as strings with a decimal comma, "-" when absent
    warehouseName: str = ""
    boxDeliveryBase: str | None = None
    boxDeliveryLiter: str | None = None
    boxDeliveryMarketplaceBase: str | None = None
    boxDeliveryMarketplaceLiter: str | None = None
    boxStorageBase: str | None = None
    boxStorageLiter: str | None = None


@payload
class BoxRatesData:  # models.WarehousesBoxRates
    currency: str = "RUB"
    warehouseList: list[BoxRates] | None = None


@payload
class BoxRatesResponse:  # models.RatesBoxResponse
    data: BoxRatesData | None = None


# Sales model of each commission field -> our scheme: FBW (WB warehouse), FBS («Маркетплейс»),
# DBS («Витрина»), DBS express.
_COMMISSION_SCHEMES = [
    ("paidStorageKgvp", "fbo", "Комиссия WB, % (склад WB)"),
    ("kgvpMarketplace", "fbs", "Комиссия WB, % (Маркетплейс)"),
    ("kgvpSupplier", "dbs", "Комиссия WB, % (Витрина)"),
    ("kgvpSupplierExpress", "express", "Комиссия WB, % (Витрина экспресс)"),
]


def commission_rates(report: CommissionReport) -> list[FeeRateDTO]:
    rates = []
    for row in report.report:
        for field_name, scheme, name in _COMMISSION_SCHEMES:
            value = getattr(row, field_name)
            if value is not None and row.subjectName:
                rates.append(FeeRateDTO("commission", name, scheme, category=row.subjectName, percent=value))
    return rates


def _amount(text: str | None) -> Decimal | None:
    try:
        return to_decimal(text) if text not in (None, "", "-") else None
    except MoneyParseError:
        return None


def _dearest(rows: list[BoxRates], base_field: str, litre_field: str) -> tuple[BoxRates, Decimal, Decimal] | None:
    priced = [(row, _amount(getattr(row, base_field)), _amount(getattr(row, litre_field)) or Decimal(0))
              for row in rows]
    known = [(row, base, litre) for row, base, litre in priced if base is not None]
    if not known:
        return None
    # Dearest for a typical 3-litre box: the first litre and two more.
    row, base, litre = max(known, key=lambda x: x[1] + 2 * x[2])
    assert base is not None
    return row, base, litre


def box_rates(data: BoxRatesData | None) -> list[FeeRateDTO]:
    rows = list((data.warehouseList if data else None) or [])
    currency = data.currency if data and data.currency else "RUB"
    rates = []
    for kind, scheme, base_field, litre_field, name, per_day in [
        ("logistics", "fbo", "boxDeliveryBase", "boxDeliveryLiter", "Логистика (склад WB)", False),
        ("logistics", "fbs", "boxDeliveryMarketplaceBase", "boxDeliveryMarketplaceLiter", "Логистика FBS", False),
        ("storage", "fbo", "boxStorageBase", "boxStorageLiter", "Хранение в день", True),
    ]:
        dearest = _dearest(rows, base_field, litre_field)
        if dearest is None:
            continue
        row, base, litre = dearest
        rates.append(FeeRateDTO(kind, f"{name}, {row.warehouseName}"[:200], scheme, fixed=base,
                                per_extra_litre=litre, per_day=per_day, currency=currency))
    return rates


def iter_fee_rates(client: WildberriesClient, cursor: dict[str, Any] | None = None) -> Iterator[Page[FeeRateDTO]]:
    """Two small pages: commissions, then today's box tariffs. Cursor: {"part": "box"} after the first."""
    if (cursor or {}).get("part") != "box":
        report = client._fetch(CommissionReport, "commissions", "GET", Host.COMMON, "/api/v1/tariffs/commission",
                               Bucket.TARIFFS_COMMISSION, params={"locale": "ru"})
        yield Page(commission_rates(report), {"part": "box"})
    today = client._now().date().isoformat()
    box = client._fetch(BoxRatesResponse, "box tariffs", "GET", Host.COMMON, "/api/v1/tariffs/box",
                        Bucket.TARIFFS_BOX, params={"date": today})
    yield Page(box_rates(box.data), {"part": "done"}, done=True)
