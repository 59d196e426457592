"""The sandbox's shared world: one seeded catalogue sold on all three marketplaces, one clock,
fault knobs, and each marketplace's own state (built lazily by its module)."""

from __future__ import annotations

import functools
import hashlib
import importlib
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

MARKETPLACES = ("ozon", "wildberries", "yandex_market")
DEFAULT_START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

_NOUNS = [
    ("Футболка", "Одежда"), ("Худи", "Одежда"), ("Кружка", "Посуда"), ("Термос", "Посуда"),
    ("Рюкзак", "Сумки"), ("Шоппер", "Сумки"), ("Лампа настольная", "Свет"), ("Гирлянда", "Свет"),
    ("Плед", "Текстиль"), ("Подушка", "Текстиль"), ("Коврик для йоги", "Спорт"), ("Бутылка для воды", "Спорт"),
    ("Блокнот", "Канцелярия"), ("Ежедневник", "Канцелярия"), ("Свеча ароматическая", "Дом"), ("Органайзер", "Дом"),
]
_ADJECTIVES = ["хлопковая", "уютная", "классическая", "лёгкая", "прочная", "мягкая", "городская", "северная"]
_COLOURS = ["синий", "красный", "чёрный", "белый", "зелёный", "бежевый", "серый", "жёлтый"]
_BRANDS = ["Прилавок", "СеверЛес", "Уют и Ко", "Волга Текстиль", "Тайга"]
_CITIES = [
    "Москва", "Санкт-Петербург", "Казань", "Новосибирск",
    "Екатеринбург", "Нижний Новгород", "Самара", "Краснодар",
]
_NAMES = ["Анна", "Иван", "Мария", "Сергей", "Ольга", "Дмитрий", "Екатерина", "Алексей", "Наталья", "Павел"]
_REVIEW_TEXTS = [
    (5, "Отличное качество, всё как на фото. Спасибо!"),
    (5, "Доставили быстро, упаковка целая. Рекомендую."),
    (4, "Хороший товар, но цвет немного темнее, чем на фото."),
    (4, "В целом доволен, размер подошёл."),
    (3, "Нормально за свои деньги, ожидал большего."),
    (2, "Шов разошёлся через неделю."),
    (1, "Пришёл не тот цвет, очень расстроена."),
    (5, "Беру уже второй раз, качество стабильное."),
]
_QUESTIONS = [
    "Подойдёт ли для подарка? Есть ли коробка?",
    "Какой точный размер в сантиметрах?",
    "Можно ли стирать в машинке?",
    "Когда будет снова в наличии синий цвет?",
    "Из какого материала сделано?",
]


@functools.cache
def marketplace_module(name: str) -> ModuleType:
    """The sandbox module of one marketplace (integrations/sandbox/<name>.py), imported on first use
    (each serves on its own). The world advances it; the app (app.py) dispatches requests to it."""
    if name not in MARKETPLACES:
        raise KeyError(name)
    return importlib.import_module(f"integrations.sandbox.{name}")


@functools.lru_cache(maxsize=16384)
def calendar_day(day: int) -> str:
    """ISO date of `day` days after 1970-01-01. Formatting timestamps is a visible share of the
    sandbox's CPU at benchmark scale; days repeat, so the date part is cached."""
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


def iso_seconds(ts: int, offset_hours: int = 0, sep: str = "T", suffix: str = "") -> str:
    """`ts` (Unix seconds) as "YYYY-MM-DD<sep>HH:MM:SS<suffix>" at a fixed UTC offset."""
    day, seconds = divmod(int(ts) + offset_hours * 3600, 86400)
    return f"{calendar_day(day)}{sep}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{suffix}"


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def ean13(number: int) -> str:
    digits = f"460{number:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class CatalogItem:
    index: int
    article: str
    name: str
    brand: str
    category: str
    colour: str
    barcode: str
    base_price: Decimal
    description: str
    weight_g: int
    images: tuple[str, ...]


@dataclass
class Faults:
    """Fault knobs. Counters are consumed request by request; ratios are drawn from a seeded rng."""

    latency_ms: int = 0
    rate_limit_next: int = 0
    server_error_next: int = 0
    malformed_next: int = 0
    rate_limit_ratio: float = 0.0
    server_error_ratio: float = 0.0
    # Seller articles whose writes (price, stock, content) each marketplace rejects per item.
    reject_offer_ids: set[str] = field(default_factory=set)
    retry_after_seconds: int = 1
    # Yandex Market: the Api-Key's accesses (ApiKeyScopeType values); a method none of them covers
    # answers 403. Empty: ALL_METHODS.
    ym_api_key_scopes: list[str] = field(default_factory=list)
    # WB cards/list answers to a cursor request that page nowhere: the same cursor back (with the
    # same cards), or no cards while `total` says a full page.
    wb_cards_stuck_cursor_next: int = 0
    wb_cards_empty_page_next: int = 0
    # Bad data a marketplace really sends: a NUL (U+0000) inside buyer texts (a buyer can type one),
    # and a number no integer column holds (10**19, past PostgreSQL's bigint) in one row of an answer.
    nul_in_texts: bool = False
    out_of_range_numbers: bool = False
    # Marketplace paths (prefix removed) the seller's subscription or token scope does not cover:
    # each answers 403 in its marketplace's shape, as Ozon's Premium-only methods do.
    forbidden_paths: set[str] = field(default_factory=set)
    # Bad data as a marketplace may send it: (old, new) text replaced in every successful answer's
    # body, e.g. a NUL a buyer typed ("\\u0000" in JSON) or an id out of any integer's range.
    body_replacements: list[tuple[str, str]] = field(default_factory=list)
    # Yandex Market: the cabinet's price-quarantine threshold, in percent: a price update that moves
    # the price by more than this goes to quarantine (sells at the old price until confirmed). 0: off.
    ym_price_quarantine_percent: int = 0

    def update(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if not hasattr(self, key):
                raise KeyError(key)
            if key == "body_replacements":
                value = [(str(old), str(new)) for old, new in value]
            setattr(self, key, set(value) if key in ("reject_offer_ids", "forbidden_paths") else value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "rate_limit_next": self.rate_limit_next,
            "server_error_next": self.server_error_next,
            "malformed_next": self.malformed_next,
            "rate_limit_ratio": self.rate_limit_ratio,
            "server_error_ratio": self.server_error_ratio,
            "reject_offer_ids": sorted(self.reject_offer_ids),
            "retry_after_seconds": self.retry_after_seconds,
            "ym_api_key_scopes": list(self.ym_api_key_scopes),
            "wb_cards_stuck_cursor_next": self.wb_cards_stuck_cursor_next,
            "wb_cards_empty_page_next": self.wb_cards_empty_page_next,
            "nul_in_texts": self.nul_in_texts,
            "out_of_range_numbers": self.out_of_range_numbers,
            "forbidden_paths": sorted(self.forbidden_paths),
            "body_replacements": [list(pair) for pair in self.body_replacements],
        }


@dataclass
class SandboxConfig:
    seed: int = 42
    products: int = 40
    orders: int = 120  # orders per marketplace at start
    start: datetime = DEFAULT_START
    # Enforce each platform's rate limits (429/420 answers). Off for tests and benchmarks.
    limits_enabled: bool = False
    # The Ozon seller has the Premium Pro subscription; without it the Premium-only methods
    # (reviews, questions) answer 403.
    ozon_premium: bool = True


class SandboxWorld:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.faults = Faults()
        self.now: datetime = self.config.start
        self.lock = threading.RLock()
        self.states: dict[str, Any] = {}
        self._fault_rng = random.Random(self.config.seed)
        self.catalog = [self._make_item(i) for i in range(self.config.products)]
        self.request_count = 0

    # Deterministic randomness: the same (seed, parts) always gives the same stream.
    def rng(self, *parts: object) -> random.Random:
        digest = hashlib.blake2b(repr((self.config.seed, *parts)).encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))

    def _make_item(self, i: int) -> CatalogItem:
        rng = self.rng("item", i)
        noun, category = _NOUNS[i % len(_NOUNS)]
        adjective = _ADJECTIVES[rng.randrange(len(_ADJECTIVES))]
        colour = _COLOURS[rng.randrange(len(_COLOURS))]
        brand = _BRANDS[i % len(_BRANDS)]
        price = Decimal(rng.randrange(299, 5999)) + Decimal(rng.choice(["0.00", "0.90", "0.50"]))
        article = f"PRL-{i + 1:05d}"
        return CatalogItem(
            index=i,
            article=article,
            name=f"{noun} {adjective}, {colour}",
            brand=brand,
            category=category,
            colour=colour,
            barcode=ean13(i + 1),
            base_price=price,
            description=f"{noun} от бренда «{brand}». Цвет: {colour}. Бережная упаковка, гарантия 30 дней.",
            weight_g=100 + rng.randrange(2000),
            images=tuple(f"https://img.sandbox.prilavok.local/{article}/{n}.jpg" for n in range(1, 3)),
        )

    def city(self, rng: random.Random) -> str:
        return _CITIES[rng.randrange(len(_CITIES))]

    def person(self, rng: random.Random) -> str:
        return _NAMES[rng.randrange(len(_NAMES))]

    def review_text(self, rng: random.Random) -> tuple[int, str]:
        return _REVIEW_TEXTS[rng.randrange(len(_REVIEW_TEXTS))]

    def question_text(self, rng: random.Random) -> str:
        return _QUESTIONS[rng.randrange(len(_QUESTIONS))]

    def state(self, marketplace: str, builder: Any) -> Any:
        """The marketplace's state object, built on first use by `builder(world)`."""
        with self.lock:
            if marketplace not in self.states:
                self.states[marketplace] = builder(self)
            return self.states[marketplace]

    def advance(self, minutes: float) -> None:
        """Move the clock; each marketplace creates new orders, changes statuses, adds reviews."""
        self.advance_to(self.now + timedelta(minutes=minutes))

    def advance_to(self, moment: datetime) -> None:
        with self.lock:
            if moment <= self.now:
                return
            old = self.now
            self.now = moment
            for name in MARKETPLACES:
                module = marketplace_module(name)
                state = self.state(name, module.build_state)
                module.advance(self, state, old, self.now)

    def follow_wall_clock(self, tick: float) -> threading.Thread:
        """Real time: every `tick` seconds the clock moves to the wall clock's time, rounded down
        to a multiple of `tick` (so what became visible when is known: the first tick at or after
        an order's creation). Orders then appear at the rate `orders` sets (Ozon and WB: one per
        60 days / orders; YM: two per tick)."""

        def follow() -> None:
            while True:
                now = time.time()
                self.advance_to(datetime.fromtimestamp(now - now % tick, UTC))
                time.sleep(tick - time.time() % tick)

        thread = threading.Thread(target=follow, name="sandbox-wall-clock", daemon=True)
        thread.start()
        return thread

    def draw_fault(self) -> str | None:
        """Which fault, if any, the next request gets."""
        with self.lock:
            f = self.faults
            if f.rate_limit_next > 0:
                f.rate_limit_next -= 1
                return "rate_limit"
            if f.server_error_next > 0:
                f.server_error_next -= 1
                return "server_error"
            if f.malformed_next > 0:
                f.malformed_next -= 1
                return "malformed"
            roll = self._fault_rng.random()
            if roll < f.rate_limit_ratio:
                return "rate_limit"
            if roll < f.rate_limit_ratio + f.server_error_ratio:
                return "server_error"
            return None
