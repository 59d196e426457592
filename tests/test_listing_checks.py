"""Listing checks (issue 11 point 4): category dictionaries read from the sandbox through the real
adapters (contract-checked), each rule broken and passed, the score, duplicate titles, the draft
check before a push, the `check_listings` command, and the cost of checking a listings page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from catalog.categories import categories_to_fetch
from catalog.checks import (
    ERROR,
    WARNING,
    RequiredAttribute,
    check_card,
    check_listing_draft,
    check_listings,
    fixes,
    problem_message,
    score,
)
from catalog.filters import ListingFilter
from catalog.models import Category, CategoryAttribute, Listing, ListingCheck
from integrations.base import ListingDTO
from integrations.limiter import FakeClock, LocalLimiter
from integrations.models import MarketplaceAccount
from integrations.registry import get_client
from integrations.sandbox.app import SandboxApp, SandboxTransport
from integrations.sandbox.contract import ContractChecker, RecordingTransport, check_all
from integrations.sandbox.world import SandboxConfig, SandboxWorld
from integrations.sync import engine
from integrations.sync.streams import STREAMS, _listings
from tests.test_sync_sandbox import make_account

pytestmark = pytest.mark.django_db

IMAGES = ["https://img.example/a/1.jpg", "https://img.example/a/2.jpg"]
GOOD_TITLES = {
    "ozon": "Футболка хлопковая мужская, синяя",
    "wildberries": "Футболка хлопковая мужская, синяя",
    "yandex_market": "Футболка мужская Прилавок, хлопок 100%, синяя, размер 48",  # 50–60 characters
}


def rules_of(problems: list[Any]) -> list[str]:
    return [p.rule for p in problems]


def card(marketplace: str, **overrides: Any) -> list[Any]:
    fields: dict[str, Any] = {
        "title": GOOD_TITLES[marketplace], "description": "Мягкий хлопок, прямой крой.", "attributes": [],
        "images": IMAGES, "category_attributes": None,
    }
    fields.update(overrides)
    return check_card(marketplace, **fields)


# ---------------------------------------------------------------------------------------------
# Dictionaries from the sandbox, through the streams


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_categories_stream_reads_the_dictionaries_the_cards_use_and_rechecks_them(marketplace: str) -> None:
    world = SandboxWorld(SandboxConfig(seed=42, products=40, orders=5, start=datetime.now(UTC).replace(microsecond=0)))
    recording = RecordingTransport(SandboxTransport(SandboxApp(world)))
    account = make_account(marketplace)
    client = get_client(account, transport=recording, clock=FakeClock(), limiter=LocalLimiter())

    engine.run_stream(account, "listings", client=client, heartbeat=False)
    listings = Listing.objects.filter(account=account)
    used = set(listings.exclude(category_id="").values_list("category_id", flat=True))
    assert used and listings.count() == ListingCheck.objects.filter(listing__account=account).count()
    # Before the dictionaries: no required-characteristic problem can be known.
    assert not ListingCheck.objects.filter(listing__account=account, problems__contains=[
        {"rule": "required_attributes"}]).exists()

    run = engine.run_stream(account, "categories", client=client, heartbeat=False)
    assert run.status == "succeeded", run.error
    categories = Category.objects.filter(marketplace=marketplace)
    assert set(categories.values_list("external_id", flat=True)) == used
    assert CategoryAttribute.objects.filter(category__in=categories, required=True).exists()

    # The sandbox requires a material (Ozon, YM) / composition (WB) for clothes and textiles only.
    clothes = listings.filter(category__in=["Одежда", "Текстиль"]) if marketplace != "ozon" else listings.filter(
        offer_id__in=[f"PRL-{i + 1:05d}" for i in range(40) if i % 16 in (0, 1, 8, 9)])
    others = listings.exclude(pk__in=clothes.values("pk"))
    missing = {"ozon": "Материал", "wildberries": "Состав", "yandex_market": "Материал"}[marketplace]
    for listing in clothes:
        problem = next(p for p in listing.quality_check.problems if p["rule"] == "required_attributes")
        assert missing in problem["params"]["names"] and problem["severity"] == ERROR
        assert "/parameters" in problem["source"] or "attribute" in problem["source"] or "charcs" in problem["source"]
    assert clothes.exists() and others.exists()
    for listing in others:
        assert "required_attributes" not in [p["rule"] for p in listing.quality_check.problems]

    # Fresh for a day: a second run asks for nothing.
    exchanges = len(recording.exchanges)
    engine.run_stream(account, "categories", client=client, heartbeat=False)
    assert len(recording.exchanges) == exchanges
    assert STREAMS["categories"].interval_minutes == 24 * 60

    checker = ContractChecker.for_marketplace(marketplace)
    assert not check_all(checker, recording.exchanges)


# ---------------------------------------------------------------------------------------------
# Each rule: a card that breaks it, one that passes


@pytest.mark.parametrize(("marketplace", "limit"), [("ozon", 500), ("wildberries", 60), ("yandex_market", 256)])
def test_title_length_per_marketplace(marketplace: str, limit: int) -> None:
    assert "title_too_long" in rules_of(card(marketplace, title="Ф" * (limit + 1)))
    assert "title_too_long" not in rules_of(card(marketplace, title="Ф" * limit))
    assert "title_empty" in rules_of(card(marketplace, title="  "))
    assert card(marketplace) == []


def test_ym_recommends_50_to_60_characters() -> None:
    problems = card("yandex_market", title="Футболка")
    assert rules_of(problems) == ["title_length_recommended"] and problems[0].severity == WARNING
    assert "OfferName.yaml" in problems[0].source


def test_wb_description_limit() -> None:
    assert "description_too_long" in rules_of(card("wildberries", description="д" * 5001))
    assert card("wildberries", description="д" * 5000) == []


def test_required_attributes_from_the_dictionary() -> None:
    dictionary = [RequiredAttribute("85", "Бренд", True, None), RequiredAttribute("4975", "Материал", True, None),
                  RequiredAttribute("9", "Сезон", False, None)]
    brand = {"id": 85, "complex_id": 0, "values": [{"dictionary_value_id": 0, "value": "Прилавок"}]}
    material = {"id": 4975, "complex_id": 0, "values": [{"dictionary_value_id": 61, "value": "хлопок"}]}
    problems = card("ozon", attributes=[brand], category_attributes=dictionary)
    assert rules_of(problems) == ["required_attributes"]
    assert problems[0].params["names"] == "Материал" and "description-category/attribute" in problems[0].source
    assert card("ozon", attributes=[brand, material], category_attributes=dictionary) == []
    # An empty value is as good as none; YM params match by name.
    empty = {"id": 4975, "values": [{"dictionary_value_id": 0, "value": " "}]}
    assert rules_of(card("ozon", attributes=[brand, empty], category_attributes=dictionary)) == ["required_attributes"]
    ym = [RequiredAttribute("23674510", "Материал", True, 10)]
    assert card("yandex_market", attributes=[{"name": "материал", "value": "хлопок"}], category_attributes=ym) == []
    too_long = card("yandex_market", attributes=[{"name": "Материал", "value": "хлопок и полиэстер"}],
                    category_attributes=ym)
    assert rules_of(too_long) == ["attribute_too_long"]


@pytest.mark.parametrize("marketplace", ["ozon", "wildberries", "yandex_market"])
def test_image_count(marketplace: str) -> None:
    assert rules_of(card(marketplace, images=[])) == ["images_too_few"]
    many = [f"https://img.example/{n}.jpg" for n in range(31)]
    assert rules_of(card(marketplace, images=many)) == ["images_too_many"]
    assert card(marketplace, images=many[:30]) == []


def test_image_format_where_the_marketplace_names_it() -> None:
    tiff = ["https://img.example/a/1.tiff", "https://img.example/a/2.jpg"]
    assert rules_of(card("ozon", images=tiff)) == ["image_format"]
    assert card("ozon", images=["https://img.example/a/1.png"]) == []
    assert card("wildberries", images=["https://img.example/a/1.webp"]) == []
    assert card("ozon", images=["https://img.example/a/photo"]) == []  # no extension: not judged


@pytest.mark.parametrize("word", ["Лучший", "самая", "№1", "дешевый", "дешёвая", "скидка", "ХИТ"])
def test_forbidden_words_in_the_title(word: str) -> None:
    problems = card("wildberries", title=f"{word} футболка хлопковая")
    assert rules_of(problems) == ["forbidden_words"]
    assert problems[0].params["words"].lower() == word.lower() and problems[0].source
    assert card("wildberries", title="Футболка хлопковая самобранка") == []  # a word part is not the word


def test_forbidden_words_list_is_configurable(settings: Any) -> None:
    settings.LISTING_FORBIDDEN_WORDS = [{"pattern": r"оригинал\w*", "label": "оригинал", "source": "Правило магазина"}]
    assert rules_of(card("ozon", title="Оригинальная футболка")) == ["forbidden_words"]
    assert card("ozon", title="Лучшая футболка") == []


@pytest.mark.parametrize("text", ["Звоните +7 (912) 345-67-89", "пишите 89123456789", "см. https://shop.example/x",
                                  "на www.example.org", "наш сайт prilavok.ru"])
def test_contacts_in_title_or_description(text: str) -> None:
    assert rules_of(card("ozon", title=f"Футболка {text}")) == ["contacts"]
    problems = card("ozon", description=f"Хлопок. {text}")
    assert rules_of(problems) == ["contacts"] and problems[0].params["field"] == "description"
    assert card("ozon", description="Хлопок 100%, размер 48-50, 2 шт.") == []


def test_score_and_fixes_in_russian() -> None:
    assert score([]) == 100
    problems = card("wildberries", title="Лучшая " + "ф" * 60, images=[])
    assert sorted(p.severity for p in problems) == [ERROR, ERROR, WARNING]
    assert score(problems) == 100 - 25 - 25 - 10
    assert score(card("wildberries", title="Ф" * 61, images=[], description="д" * 5001,
                      attributes=[], category_attributes=[RequiredAttribute("1", "Цвет", True, None)])
                 + card("wildberries", title="Лучшая ф")) == 0
    with translation.override("ru"):
        messages = [problem_message(p.as_dict()) for p in problems]
    assert "Сократите название до 60 символов (сейчас 67)." in messages
    assert any(m.startswith("Добавьте фото") for m in messages)
    assert any("«Лучшая»" in m and "из названия" in m for m in messages)


# ---------------------------------------------------------------------------------------------
# Stored checks: duplicates, draft, command, filter, cost


def listing(account: MarketplaceAccount, n: int, title: str, **fields: Any) -> Listing:
    return Listing.objects.create(account=account, external_id=str(n), offer_id=f"ART-{n}", title=title,
                                  images=IMAGES, **fields)


@pytest.fixture
def wb() -> MarketplaceAccount:
    return MarketplaceAccount.objects.create(marketplace="wildberries", name="WB")


def test_duplicate_titles_flag_both_cards_of_one_account_only(wb: MarketplaceAccount) -> None:
    other = MarketplaceAccount.objects.create(marketplace="wildberries", name="WB 2")
    first = listing(wb, 1, "Кружка керамическая")
    listing(wb, 2, "кружка КЕРАМИЧЕСКАЯ")
    unique = listing(wb, 3, "Кружка стеклянная")
    listing(other, 4, "Кружка керамическая")  # another account's card is not a duplicate
    listing(wb, 5, "Кружка керамическая", archived=True)  # nor an archived one

    check_listings([first.pk, unique.pk])  # the partner (2) is rechecked too
    checks = {c.listing.external_id: c for c in ListingCheck.objects.select_related("listing")}
    assert set(checks) == {"1", "2", "3"}
    assert [p["rule"] for p in checks["1"].problems] == ["duplicate_title"]
    assert checks["1"].problems[0]["params"]["offers"] == "ART-2"
    assert checks["2"].problems[0]["params"]["offers"] == "ART-1"
    assert checks["3"].problems == [] and checks["3"].score == 100 and checks["1"].score == 90


def test_draft_check_returns_the_problems_of_an_edit(wb: MarketplaceAccount) -> None:
    edited = listing(wb, 1, "Кружка керамическая", category_id="102")
    listing(wb, 2, "Кружка стеклянная")
    category = Category.objects.create(marketplace="wildberries", external_id="102", name="Посуда",
                                       fetched_at=datetime.now(UTC))
    CategoryAttribute.objects.create(category=category, external_id="14177449", name="Цвет", required=True)

    problems = check_listing_draft(edited, "Кружка стеклянная", "", [{"id": 14177449, "name": "Цвет",
                                                                       "value": ["белый"]}], IMAGES)
    assert rules_of(problems) == ["duplicate_title"]
    problems = check_listing_draft(edited, "Лучшая кружка " + "к" * 50, "", [], [])
    assert rules_of(problems) == ["title_too_long", "required_attributes", "images_too_few", "forbidden_words"]
    assert check_listing_draft(edited, "Кружка керамическая белая", "Фарфор.",
                               [{"id": 14177449, "value": ["белый"]}], IMAGES) == []
    assert not ListingCheck.objects.exists()  # a draft is not stored


def test_check_listings_command_and_the_problems_filter(wb: MarketplaceAccount) -> None:
    bad = listing(wb, 1, "Лучшая кружка")
    good = listing(wb, 2, "Кружка керамическая")
    out = StringIO()
    call_command("check_listings", "--account", "WB", stdout=out)
    assert "Checked 2 listings; 1 with problems" in out.getvalue()
    assert ListingCheck.objects.get(listing=bad).problem_count == 1
    assert list(ListingFilter({"problems": "true"}, queryset=Listing.objects.all()).qs) == [bad]
    assert list(ListingFilter({"problems": "false"}, queryset=Listing.objects.all()).qs) == [good]

    with translation.override("ru"):
        shown = fixes(ListingCheck.objects.get(listing=bad))
    assert [f["message"] for f in shown] == ["Уберите «Лучшая» из названия."]
    assert shown[0]["source"].startswith("Yandex Market, OfferName.yaml") and shown[0]["url"]

    Listing.objects.filter(pk=bad.pk).update(title="Кружка фарфоровая")
    call_command("check_listings", stdout=StringIO())
    assert ListingCheck.objects.get(listing=bad).problems == []


def _page(n: int, start: int = 0) -> list[ListingDTO]:
    # Every tenth card shares its title with the one before; every card is in a dictionary category.
    return [
        ListingDTO(external_id=str(i), offer_id=f"ART-{i:05d}", title=f"Кружка керамическая №{i - i % 10 // 9}",
                   category_id=str(100 + i % 16), images=IMAGES,
                   attributes=[{"id": 14177449, "name": "Цвет", "value": ["белый"]}])
        for i in range(start, start + n)
    ]


def _dictionaries() -> None:
    now = datetime.now(UTC)
    for subject in range(100, 116):
        category = Category.objects.create(marketplace="wildberries", external_id=str(subject), fetched_at=now)
        CategoryAttribute.objects.create(category=category, external_id="14177449", name="Цвет", required=True)
        CategoryAttribute.objects.create(category=category, external_id="1", name="Состав",
                                         required=subject == 100)


def test_changed_listings_are_checked_in_a_bounded_number_of_queries(wb: MarketplaceAccount) -> None:
    """The listings stream checks after its run (STREAMS["listings"].after_run), the cards that
    changed: as many queries for 500 of them as for 50, and none per page."""
    _dictionaries()
    after_run = STREAMS["listings"].after_run
    assert after_run is not None
    _listings(wb.pk, _page(50))
    with CaptureQueriesContext(connection) as small:
        assert after_run(wb.pk) == {"checked": 50}
    with CaptureQueriesContext(connection) as page:
        counts = _listings(wb.pk, _page(500, start=1000))
    assert "checked" not in counts.extra
    assert not [q for q in page.captured_queries if "catalog_listingcheck" in q["sql"]]
    with CaptureQueriesContext(connection) as large:
        assert after_run(wb.pk) == {"checked": 500}
    check_queries = [q for q in large.captured_queries if "catalog_listingcheck" in q["sql"]
                     or "categoryattribute" in q["sql"] or "lower(title)" in q["sql"].lower()]
    print(f"\nchecks of 500 changed cards: {len(large.captured_queries)} queries "
          f"({len(small.captured_queries)} for 50), {len(check_queries)} of them the checks")
    assert len(large.captured_queries) == len(small.captured_queries) <= 12
    assert 1 <= len(check_queries) <= 5
    checks = ListingCheck.objects.filter(listing__external_id__in=[str(i) for i in range(1000, 1500)])
    assert checks.count() == 500
    assert checks.filter(problems__contains=[{"rule": "duplicate_title"}]).count() == 100
    assert checks.filter(problems__contains=[{"rule": "required_attributes"}]).count() == len(
        [i for i in range(1000, 1500) if i % 16 == 0])


def test_unchanged_listings_are_not_checked_again(wb: MarketplaceAccount) -> None:
    """Re-reading an unchanged catalogue checks nothing; a changed card is checked with the cards
    its old and its new title duplicate, and no other."""
    _dictionaries()
    after_run = STREAMS["listings"].after_run
    assert after_run is not None
    items = _page(100)
    _listings(wb.pk, items)
    assert after_run(wb.pk) == {"checked": 100}
    stamps = dict(ListingCheck.objects.values_list("listing__external_id", "checked_at"))

    _listings(wb.pk, items)  # the same page again: nothing changed
    assert after_run(wb.pk) == {"checked": 0}
    assert dict(ListingCheck.objects.values_list("listing__external_id", "checked_at")) == stamps

    # Card 18 shared its title with 19 (every tenth pair does); renamed to card 5's title.
    renamed = [replace(item, title=items[5].title) if item.external_id == "18" else item for item in items]
    _listings(wb.pk, renamed)
    assert after_run(wb.pk) == {"checked": 3}
    rechecked = {external_id for external_id, checked_at in
                 ListingCheck.objects.values_list("listing__external_id", "checked_at")
                 if checked_at != stamps[external_id]}
    assert rechecked == {"18", "19", "5"}
    checks = {c.listing.external_id: c for c in ListingCheck.objects.select_related("listing")
              .filter(listing__external_id__in=["5", "18", "19"])}
    assert "duplicate_title" not in rules_of_stored(checks["19"])
    assert "duplicate_title" in rules_of_stored(checks["5"]) and "duplicate_title" in rules_of_stored(checks["18"])

    # A card gone from the marketplace (flagged missing) frees its partner the same way.
    Listing.objects.filter(account=wb, external_id="5").update(missing_since=datetime.now(UTC),
                                                               updated_at=datetime.now(UTC))
    assert after_run(wb.pk) == {"checked": 2}
    assert "duplicate_title" not in rules_of_stored(ListingCheck.objects.get(listing__external_id="18"))


def test_a_listings_run_of_an_unchanged_catalogue_checks_nothing() -> None:
    world = SandboxWorld(SandboxConfig(seed=42, products=40, orders=5, start=datetime.now(UTC).replace(microsecond=0)))
    account = make_account("wildberries")
    client = get_client(account, transport=SandboxTransport(SandboxApp(world)), clock=FakeClock(),
                        limiter=LocalLimiter())
    first = engine.run_stream(account, "listings", client=client, heartbeat=False)
    assert first.progress["checked"] == 40 == ListingCheck.objects.filter(listing__account=account).count()
    again = engine.run_stream(account, "listings", client=client, heartbeat=False, full=True)
    assert again.unchanged == 40 and again.progress["checked"] == 0


def rules_of_stored(check: ListingCheck) -> list[str]:
    return [p["rule"] for p in check.problems]


def test_only_used_dictionaries_older_than_a_day_are_fetched(wb: MarketplaceAccount) -> None:
    now = datetime.now(UTC)
    for n, subject in enumerate(["102", "103", "104", "104", ""]):
        listing(wb, n, f"Кружка {n}", category_id=subject)
    day_old = now - timedelta(hours=23, minutes=1)
    Category.objects.create(marketplace="wildberries", external_id="102", fetched_at=day_old)
    Category.objects.create(marketplace="wildberries", external_id="103", fetched_at=now - timedelta(hours=1))
    Category.objects.create(marketplace="ozon", external_id="104", fetched_at=now)  # another marketplace's
    Category.objects.create(marketplace="wildberries", external_id="105", fetched_at=now - timedelta(days=9))  # unused
    assert categories_to_fetch(wb.pk, "wildberries") == ["102", "104"]
