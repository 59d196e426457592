"""Numbers and dates as the screens show them (docs/ui-conventions.md: "Words, numbers, dates").

    {% load formatting %}
    {{ price.price|money:price.currency }}   ->  1 358 799,90 ₽  (ru)  /  ₽1,358,799.90  (en)
    {{ change.created_at|moment }}           ->  03.12.2026 14:05 in Moscow time
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import get_language

register = template.Library()

NARROW_NBSP = "\u202f"  # between thousands in Russian
NBSP = "\u00a0"  # between the amount and the currency sign
SYMBOLS = {"RUB": "₽", "BYN": "Br", "KZT": "₸", "AMD": "֏", "KGS": "сом", "UZS": "сўм", "USD": "$", "EUR": "€"}


def format_money(amount: Any, currency: str = "RUB", language: str | None = None) -> str:
    """Decimal in, text out; never through float. Empty for a missing amount."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return str(amount)
    symbol = SYMBOLS.get((currency or "RUB").upper(), (currency or "").upper())
    sign = "-" if value < 0 else ""
    whole, fraction = f"{abs(value):.2f}".split(".")
    groups = f"{int(whole):,}"
    if (language or get_language() or "ru").startswith("ru"):
        return f"{sign}{groups.replace(',', NARROW_NBSP)},{fraction}{NBSP}{symbol}"
    return f"{sign}{symbol}{groups}.{fraction}"


@register.filter
def money(amount: Any, currency: str = "RUB") -> str:
    return format_money(amount, currency)


@register.filter
def moment(value: datetime | None) -> str:
    """A moment in the display time zone (Moscow): 03.12.2026 14:05."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")
