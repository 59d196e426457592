"""Money is Decimal with an explicit currency, parsed exactly from every marketplace format."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

RUB = "RUB"
CENT = Decimal("0.01")

# ISO 4217 numeric codes (WB sends these) and Yandex's "RUR" alias, mapped to alphabetic codes.
_CURRENCY_ALIASES = {"643": RUB, "RUR": RUB, "933": "BYN", "398": "KZT", "051": "AMD", "417": "KGS", "860": "UZS"}


class MoneyParseError(ValueError):
    pass


def to_decimal(value: object) -> Decimal:
    """Parse a marketplace amount without ever passing through binary float arithmetic.

    JSON floats are converted through their shortest repr (what the marketplace wrote), so
    1499.9 stays Decimal("1499.9").
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise MoneyParseError(f"not an amount: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace(",", ".")
        try:
            return Decimal(text)
        except InvalidOperation as exc:
            raise MoneyParseError(f"not an amount: {value!r}") from exc
    raise MoneyParseError(f"not an amount: {value!r}")


def from_minor_units(value: int | str, exponent: int = 2) -> Decimal:
    """Kopecks (WB FBS orders) to roubles."""
    return Decimal(int(value)).scaleb(-exponent)


def to_minor_units(amount: Decimal, exponent: int = 2) -> int:
    return int(amount.scaleb(exponent).to_integral_value(rounding=ROUND_HALF_UP))


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def normalize_currency(code: object, default: str = RUB) -> str:
    if code is None or code == "":
        return default
    text = str(code).strip().upper()
    return _CURRENCY_ALIASES.get(text, text)
