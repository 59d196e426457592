"""The period a report covers: the last 7/30/90 days up to today, or a custom range (Moscow days)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
# Longer than a quarter: the page would wait on it; it runs as a background job instead.
LONG_PERIOD_DAYS = 92
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    preset: int | None = None  # 7/30/90, or None for a custom range

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same number of days just before."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def query(self) -> str:
        if self.preset:
            return f"days={self.preset}"
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}"


def today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now()).date()


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def parse_period(params: Mapping[str, str], now: datetime | None = None) -> Period:
    """From a query string: `days` (one of PERIODS) or `start`/`end`; anything else → the default."""
    end_of_today = today(now)
    start, end = _day(params.get("start")), _day(params.get("end"))
    if start and end and start <= end and (end - start).days < MAX_DAYS:
        return Period(start, end)
    days = params.get("days", "")
    preset = int(days) if days.isdigit() and int(days) in PERIODS else DEFAULT_DAYS
    return Period(end_of_today - timedelta(days=preset - 1), end_of_today, preset)
