"""Listing checks: each marketplace's card rules that can be checked locally, a quality score per
card and the list of fixes.

Every rule names where it comes from (the marketplace's spec vendored in integrations/specs/ or its
documentation page). Required characteristics come from the category dictionaries the categories
stream keeps (catalog.Category / CategoryAttribute); a card whose category has not been fetched yet
is checked without them and rechecked when it arrives.

Entry points:
- check_listings(ids) — recompute and store ListingCheck rows for a batch, in a fixed number of
  queries whatever the batch size;
- check_changed_listings(account) — after a listings run: only the cards that changed since their
  last check and those whose duplicate-title evidence they change, found in set-based SQL;
- check_all_listings(...) — the whole catalogue in batches (the `check_listings` command);
- check_listing_draft(listing, ...) — the same problems for an edit before it is pushed.

Problems are stored as codes and parameters and rendered in the reader's language by
`problem_message`, so the page shows them in Russian (gettext) whatever language the check ran in.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext, ngettext

from catalog.models import Category, CategoryAttribute, Listing, ListingCheck

ERROR = "error"  # the marketplace refuses or hides the card
WARNING = "warning"  # accepted, but against the marketplace's recommendations
# Score: 100 minus these per problem, never below 0.
PENALTY = {ERROR: 25, WARNING: 10}
BATCH = 2000


# ---------------------------------------------------------------------------------------------
# The rules and where they come from


@dataclass(frozen=True)
class Source:
    name: str  # the spec file and field, or the documentation page's title
    url: str = ""


@dataclass(frozen=True)
class MarketplaceRules:
    title_max: int
    title_source: Source
    images_max: int
    images_source: Source
    images_min: int = 1
    title_recommended: tuple[int, int] | None = None  # (min, max) the marketplace advises
    title_recommended_source: Source | None = None
    image_formats: frozenset[str] = frozenset()  # file extensions the marketplace accepts
    description_max: int | None = None
    description_source: Source | None = None
    content_rules: Source = field(default_factory=lambda: Source(""))  # the marketplace's wording rules


OZON_IMPORT = Source("Ozon Seller API, swagger.json: POST /v3/product/import, name «Up to 500 characters», "
                     "images «up to 30 files», «JPG or PNG»",
                     "https://docs.ozon.ru/api/seller/#operation/ProductAPI_ImportProductsV3")
WB_UPDATE = Source("WB API, 02-items.yaml: POST /content/v2/cards/update, title maxLength 60, "
                   "description «максимум — 5000»",
                   "https://dev.wildberries.ru/openapi/work-with-products#tag/listings")
WB_MEDIA = Source("WB API, 02-items.yaml: POST /content/v3/media/file, «максимум изображений — 30», "
                  "«форматы — JPG, PNG, BMP, GIF (статичные), WebP»",
                  "https://dev.wildberries.ru/openapi/work-with-products#tag/media")
YM_NAME = Source("Yandex Market API, OfferName.yaml: maxLength 256, «Оптимальная длина — 50–60 символов»",
                 "https://yandex.ru/support/marketplace/assortment/fields/title.html")
YM_PICTURES = Source("Yandex Market API, BaseOfferDTO.yaml: pictures maxItems 30",
                     "https://yandex.ru/support/marketplace/assortment/fields/images.html")

RULES: dict[str, MarketplaceRules] = {
    "ozon": MarketplaceRules(
        title_max=500, title_source=OZON_IMPORT, images_max=30, images_source=OZON_IMPORT,
        image_formats=frozenset({"jpg", "jpeg", "png"}),
        content_rules=Source("Ozon: требования к названию товара",
                             "https://docs.ozon.ru/global/en/products/requirements/product-info/naming-requirements/"),
    ),
    "wildberries": MarketplaceRules(
        title_max=60, title_source=WB_UPDATE, images_max=30, images_source=WB_MEDIA,
        image_formats=frozenset({"jpg", "jpeg", "png", "bmp", "gif", "webp"}),
        description_max=5000, description_source=WB_UPDATE,
        content_rules=Source("WB: правила заполнения карточки товара",
                             "https://seller.wildberries.ru/instructions/ru/ru/material/how-to-create-card"),
    ),
    "yandex_market": MarketplaceRules(
        title_max=256, title_source=YM_NAME, images_max=30, images_source=YM_PICTURES,
        title_recommended=(50, 60), title_recommended_source=YM_NAME,
        content_rules=YM_NAME,
    ),
}

REQUIRED_SOURCES = {
    "ozon": Source("Ozon Seller API: POST /v1/description-category/attribute, is_required",
                   "https://docs.ozon.ru/api/seller/#operation/DescriptionCategoryAPI_GetAttributes"),
    "wildberries": Source("WB API, 02-items.yaml: GET /content/v2/object/charcs/{subjectId}, required",
                          "https://dev.wildberries.ru/openapi/work-with-products"),
    "yandex_market": Source("Yandex Market API: POST /v2/category/{categoryId}/parameters, required",
                            "https://yandex.ru/dev/market/partner-api/doc/ru/reference/content/getCategoryContentParameters"),
}
DUPLICATE_SOURCE = Source("Prilavok: одинаковые названия карточек одного кабинета конкурируют между собой "
                          "и мешают покупателю различить товары")
CONTACTS_SOURCE = Source("Правила площадок: в карточке нельзя указывать контакты и ссылки на другие сайты")

# Words and patterns a card must not carry. settings.LISTING_FORBIDDEN_WORDS replaces the list:
# [{"pattern": regex, "label": shown text, "source": where the ban comes from, "url": optional}].
DEFAULT_FORBIDDEN: list[dict[str, str]] = [
    {"pattern": r"лучш\w*", "label": "лучший",
     "source": "Yandex Market, OfferName.yaml: «Не включайте… эмоциональные характеристики»; Ozon: требования к "
               "названию (без оценочных слов)", "url": YM_NAME.url},
    {"pattern": r"самы[йяеx]\w*|самая|самое", "label": "самый",
     "source": "Yandex Market, OfferName.yaml: «Не включайте… эмоциональные характеристики»", "url": YM_NAME.url},
    {"pattern": r"(?:№|#|номер\s*)\s*1(?!\d)", "label": "№1",
     "source": "Yandex Market, OfferName.yaml: «Не включайте… эмоциональные характеристики («хит», «супер»)»",
     "url": YM_NAME.url},
    {"pattern": r"деш[её]в\w*", "label": "дешёвый",
     "source": "Yandex Market, OfferName.yaml: «Не включайте в название условия продажи»", "url": YM_NAME.url},
    {"pattern": r"скидк\w*|распродаж\w*", "label": "скидка",
     "source": "Yandex Market, OfferName.yaml: «Не включайте в название условия продажи (например, «скидка»…)»",
     "url": YM_NAME.url},
    {"pattern": r"хит|супер", "label": "хит, супер",
     "source": "Yandex Market, OfferName.yaml: «эмоциональные характеристики («хит», «супер»)»", "url": YM_NAME.url},
    {"pattern": r"бесплатн\w*\s+доставк\w*", "label": "бесплатная доставка",
     "source": "Yandex Market, OfferName.yaml: «условия продажи (… «бесплатная доставка»)»", "url": YM_NAME.url},
]
# Contacts are checked in the title and the description.
PHONE = re.compile(r"(?<!\d)(?:\+7|8)[\s\-(]*\d{3}[\s\-)]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)")
URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:ru|com|рф|net|org|su|shop)\b", re.IGNORECASE)


def forbidden_words() -> list[tuple[re.Pattern[str], dict[str, str]]]:
    entries = getattr(settings, "LISTING_FORBIDDEN_WORDS", None) or DEFAULT_FORBIDDEN
    return [(re.compile(rf"(?<!\w)(?:{e['pattern']})(?!\w)", re.IGNORECASE), e) for e in entries]


# ---------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    rule: str
    severity: str
    params: dict[str, Any]
    source: str
    url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "params": self.params, "source": self.source,
                "url": self.url}

    @property
    def message(self) -> str:
        return problem_message(self.as_dict())


def _problem(rule: str, severity: str, source: Source, **params: Any) -> Problem:
    return Problem(rule, severity, params, source.name, source.url)


def problem_message(problem: dict[str, Any]) -> str:
    """The fix a problem asks for, in the active language (Russian on the pages)."""
    p = problem.get("params") or {}
    rule = problem.get("rule")
    if rule == "title_empty":
        return gettext("Add a title.")
    if rule == "title_too_long":
        return gettext("Shorten the title to %(max)s characters (now %(length)s).") % p
    if rule == "title_length_recommended":
        return gettext("Make the title %(min)s–%(max)s characters long, as the marketplace advises "
                       "(now %(length)s).") % p
    if rule == "description_too_long":
        return gettext("Shorten the description to %(max)s characters (now %(length)s).") % p
    if rule == "required_attributes":
        return ngettext("Fill in the required characteristic: %(names)s.",
                        "Fill in the required characteristics: %(names)s.", p.get("count", 1)) % p
    if rule == "attribute_too_long":
        return gettext("Shorten the value of «%(name)s» to %(max)s characters (now %(length)s).") % p
    if rule == "images_too_few":
        return gettext("Add photos: at least %(min)s needed (now %(count)s).") % p
    if rule == "images_too_many":
        return gettext("Remove photos: at most %(max)s allowed (now %(count)s).") % p
    if rule == "image_format":
        return gettext("Replace photos in a format the marketplace does not accept (%(formats)s): "
                       "%(files)s.") % p
    in_description = p.get("field") == "description"
    if rule == "forbidden_words":
        if in_description:
            return gettext("Remove «%(words)s» from the description.") % p
        return gettext("Remove «%(words)s» from the title.") % p
    if rule == "contacts":
        if in_description:
            return gettext("Remove phone numbers and links from the description.")
        return gettext("Remove phone numbers and links from the title.")
    if rule == "duplicate_title":
        return gettext("Make the title unique: the same title is on %(offers)s.") % p
    return str(rule)


def fixes(check: ListingCheck | None) -> list[dict[str, Any]]:
    """A stored check's problems with their message in the active language, errors first: what the
    catalogue and the product page show (message, severity, source, url)."""
    if check is None:
        return []
    problems = sorted(check.problems, key=lambda p: p.get("severity") != ERROR)
    return [{**p, "message": problem_message(p)} for p in problems]


def score(problems: Iterable[Problem | dict[str, Any]]) -> int:
    total = 100
    for problem in problems:
        severity = problem.severity if isinstance(problem, Problem) else problem.get("severity", WARNING)
        total -= PENALTY.get(severity, PENALTY[WARNING])
    return max(0, total)


# ---------------------------------------------------------------------------------------------
# One card


@dataclass(frozen=True)
class RequiredAttribute:
    external_id: str
    name: str
    required: bool
    max_length: int | None


def _has_value(attribute: dict[str, Any]) -> bool:
    """Whether a card's attribute (any marketplace's shape) carries a value."""
    if "values" in attribute:  # Ozon: [{"dictionary_value_id", "value"}]
        return any(isinstance(v, dict) and (str(v.get("value") or "").strip() or v.get("dictionary_value_id"))
                   for v in attribute.get("values") or [])
    value = attribute.get("value")
    if isinstance(value, list):  # WB characteristics
        return any(str(v).strip() for v in value)
    return value is not None and str(value).strip() != ""


def _values_text(attribute: dict[str, Any]) -> list[str]:
    if "values" in attribute:
        return [str(v.get("value") or "") for v in attribute.get("values") or [] if isinstance(v, dict)]
    value = attribute.get("value")
    return [str(v) for v in value] if isinstance(value, list) else [str(value or "")]


def _find(attributes: Sequence[dict[str, Any]], wanted: RequiredAttribute) -> dict[str, Any] | None:
    name = wanted.name.casefold()
    for attribute in attributes:
        if not isinstance(attribute, dict):
            continue
        if "id" in attribute and str(attribute["id"]) == wanted.external_id:
            return attribute
        if str(attribute.get("name") or "").casefold() == name:  # YM params carry names only
            return attribute
    return None


def _extension(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    return path.rsplit(".", 1)[-1].lower() if "." in path else ""


def check_card(
    marketplace: str,
    *,
    title: str,
    description: str,
    attributes: Sequence[dict[str, Any]],
    images: Sequence[Any],
    category_attributes: Sequence[RequiredAttribute] | None,
    duplicates: Sequence[str] = (),
) -> list[Problem]:
    """Every rule of `marketplace` against one card's content. `category_attributes` None: the
    category's dictionary is not known yet (the required-characteristics rule is skipped)."""
    rules = RULES.get(marketplace)
    if rules is None:
        return []
    problems: list[Problem] = []
    title = title.strip()
    length = len(title)
    if not title:
        problems.append(_problem("title_empty", ERROR, rules.title_source))
    elif length > rules.title_max:
        problems.append(_problem("title_too_long", ERROR, rules.title_source, max=rules.title_max, length=length))
    elif rules.title_recommended and not rules.title_recommended[0] <= length <= rules.title_recommended[1]:
        low, high = rules.title_recommended
        source = rules.title_recommended_source or rules.title_source
        problems.append(_problem("title_length_recommended", WARNING, source, min=low, max=high, length=length))
    if rules.description_max and len(description) > rules.description_max:
        problems.append(_problem("description_too_long", ERROR, rules.description_source or rules.title_source,
                                 max=rules.description_max, length=len(description)))

    if category_attributes is not None:
        problems += _attribute_problems(marketplace, attributes, category_attributes)

    urls = [str(i.get("url") or i.get("file_name") or "") if isinstance(i, dict) else str(i) for i in images]
    urls = [u for u in urls if u]
    if len(urls) < rules.images_min:
        problems.append(_problem("images_too_few", ERROR, rules.images_source, min=rules.images_min, count=len(urls)))
    elif len(urls) > rules.images_max:
        problems.append(_problem("images_too_many", ERROR, rules.images_source, max=rules.images_max, count=len(urls)))
    if rules.image_formats:
        # Only links that name a file type are judged: a link without an extension may be any format.
        wrong = [u.rsplit("/", 1)[-1] for u in urls if _extension(u) and _extension(u) not in rules.image_formats]
        if wrong:
            problems.append(_problem("image_format", WARNING, rules.images_source,
                                     formats=", ".join(sorted(rules.image_formats)), files=", ".join(wrong[:3])))

    problems += _wording_problems(rules, title, description)
    if duplicates:
        problems.append(_problem("duplicate_title", WARNING, DUPLICATE_SOURCE, offers=", ".join(duplicates[:3]),
                                 count=len(duplicates)))
    return problems


def _attribute_problems(marketplace: str, attributes: Sequence[dict[str, Any]],
                        category_attributes: Sequence[RequiredAttribute]) -> list[Problem]:
    problems = []
    source = REQUIRED_SOURCES[marketplace]
    missing = []
    for wanted in category_attributes:
        found = _find(attributes, wanted)
        if wanted.required and (found is None or not _has_value(found)):
            missing.append(wanted.name)
        if found is not None and wanted.max_length:
            longest = max((len(v) for v in _values_text(found)), default=0)
            if longest > wanted.max_length:
                problems.append(_problem("attribute_too_long", ERROR, source, name=wanted.name,
                                         max=wanted.max_length, length=longest))
    if missing:
        problems.insert(0, _problem("required_attributes", ERROR, source, names=", ".join(missing),
                                    count=len(missing)))
    return problems


def _wording_problems(rules: MarketplaceRules, title: str, description: str) -> list[Problem]:
    problems = []
    for field_name, text in (("title", title), ("description", description)):
        if not text:
            continue
        if field_name == "title":  # advertising words: the marketplaces' title rules
            for pattern, entry in forbidden_words():
                found = pattern.search(text)
                if found:
                    problems.append(Problem("forbidden_words", WARNING, {"words": found.group(0), "field": field_name},
                                            entry.get("source", ""), entry.get("url", "")))
        if PHONE.search(text) or URL.search(text):
            problems.append(_problem("contacts", ERROR, Source(CONTACTS_SOURCE.name, rules.content_rules.url),
                                     field=field_name))
    return problems


# ---------------------------------------------------------------------------------------------
# Batches: a fixed number of queries whatever the batch size


def _category_attributes(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], list[RequiredAttribute]]:
    """(marketplace, category id) -> its characteristics; a category not fetched yet is absent."""
    if not pairs:
        return {}
    found: dict[tuple[str, str], list[RequiredAttribute]] = {}
    rows = CategoryAttribute.objects.filter(
        category__marketplace__in={m for m, _ in pairs}, category__external_id__in={c for _, c in pairs},
    ).values_list("category__marketplace", "category__external_id", "external_id", "name", "required", "max_length")
    for marketplace, category_id, external_id, name, required, max_length in rows:
        if (marketplace, category_id) in pairs and (required or max_length):
            found.setdefault((marketplace, category_id), []).append(
                RequiredAttribute(external_id, name, required, max_length))
    # A fetched category with nothing to check still counts as known (empty list, not absent).
    for marketplace, category_id in Category.objects.filter(
        marketplace__in={m for m, _ in pairs}, external_id__in={c for _, c in pairs},
    ).values_list("marketplace", "external_id"):
        found.setdefault((marketplace, category_id), [])
    return found


_DUPLICATES = """
    WITH keys AS (
        SELECT DISTINCT account_id, lower(title) AS t FROM catalog_listing
        WHERE id = ANY(%(ids)s) AND title <> '' AND NOT archived AND missing_since IS NULL
    )
    SELECT l.id, k.account_id, k.t, l.offer_id
    FROM keys k CROSS JOIN LATERAL (
        -- One probe of the (account, lower(title)) index per distinct title, not a scan of the catalogue.
        SELECT id, offer_id FROM catalog_listing
        WHERE account_id = k.account_id AND lower(title) = k.t AND NOT archived AND missing_since IS NULL
    ) l
"""


def _duplicates(ids: Sequence[int]) -> dict[int, list[str]]:
    """Listing id -> seller articles of the other live cards of its account with the same title
    (case-insensitive), for the given listings and every card that shares a title with one of them.
    One query, answered by the (account, lower(title)) index."""
    groups: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(_DUPLICATES, {"ids": list(ids)})
        for listing_id, account_id, title, offer_id in cursor.fetchall():
            groups[(account_id, title)].append((listing_id, offer_id))
    result: dict[int, list[str]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        for listing_id, _ in members:
            result[listing_id] = sorted(offer for other, offer in members if other != listing_id)
    return result


_FIELDS = ("id", "account__marketplace", "title", "description", "attributes", "images", "category_id")


def check_listings(ids: Iterable[int], *, with_partners: bool = True) -> int:
    """Recompute and store the checks of these listings, and (with_partners) of the cards their
    titles duplicate, so both sides of a duplicate say so. Returns how many checks were written."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return 0
    # The database's clock, read before the rows: a card changed after this read is newer than
    # its check, so check_changed_listings takes it up again.
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        now = cursor.fetchone()[0]
    duplicates = _duplicates(wanted)
    partners = set(duplicates) - set(wanted) if with_partners else set()
    rows = list(Listing.objects.filter(pk__in=[*wanted, *partners]).order_by().values_list(*_FIELDS))
    dictionaries = _category_attributes({(r[1], r[6]) for r in rows if r[6]})
    checks = []
    for pk, marketplace, title, description, attributes, images, category_id in rows:
        problems = check_card(
            marketplace, title=title, description=description, attributes=attributes or [], images=images or [],
            category_attributes=dictionaries.get((marketplace, category_id)) if category_id else None,
            duplicates=duplicates.get(pk, ()),
        )
        checks.append((pk, score(problems), json.dumps([p.as_dict() for p in problems], ensure_ascii=False),
                       len(problems), now))
    _store(checks)
    return len(checks)


def _store(checks: list[tuple[Any, ...]]) -> None:
    """COPY and one upsert: bulk_create quoted every value client-side, most of a batch's time."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE _listing_checks (listing_id bigint, score smallint, problems jsonb, "
                       "problem_count smallint, checked_at timestamptz) ON COMMIT DROP")
        with cursor.cursor.copy("COPY _listing_checks FROM STDIN") as copy:
            for row in checks:
                copy.write_row(row)
        cursor.execute(
            """
            INSERT INTO catalog_listingcheck AS c (listing_id, score, problems, problem_count, checked_at)
            SELECT listing_id, score, problems, problem_count, checked_at FROM _listing_checks
            ON CONFLICT (listing_id) DO UPDATE SET score = EXCLUDED.score, problems = EXCLUDED.problems,
                problem_count = EXCLUDED.problem_count, checked_at = EXCLUDED.checked_at
            """
        )
        cursor.execute("DROP TABLE _listing_checks")  # inside a caller's transaction, ON COMMIT is later


_LIVE = "title <> '' AND NOT archived AND missing_since IS NULL"
_TO_CHECK = f"""
    WITH dirty AS (
        -- Changed since their check (the upsert bumps updated_at only on a real change), or never checked.
        SELECT l.id, l.title, l.archived, l.missing_since FROM catalog_listing l
        LEFT JOIN catalog_listingcheck c ON c.listing_id = l.id
        WHERE l.account_id = %(account)s AND (c.listing_id IS NULL OR l.updated_at > c.checked_at)
    ), titles AS (
        SELECT DISTINCT lower(title) AS t FROM dirty WHERE {_LIVE}
    ), sizes AS (
        SELECT lower(title) AS t, count(*) - 1 AS others FROM catalog_listing
        WHERE account_id = %(account)s AND {_LIVE} GROUP BY 1
    )
    SELECT id FROM dirty
    UNION
    -- The cards that now share a title with a changed one.
    SELECT l.id FROM titles k CROSS JOIN LATERAL (
        SELECT id FROM catalog_listing
        WHERE account_id = %(account)s AND lower(title) = k.t AND NOT archived AND missing_since IS NULL
    ) l
    UNION
    -- Cards whose stored duplicate count is no longer the catalogue's: a partner was renamed,
    -- archived or is gone (the changed card's old title is not known any more).
    SELECT c.listing_id FROM catalog_listingcheck c
    JOIN catalog_listing l ON l.id = c.listing_id
    LEFT JOIN sizes s ON s.t = lower(l.title) AND l.title <> '' AND NOT l.archived AND l.missing_since IS NULL
    WHERE l.account_id = %(account)s
      AND (s.others > 0 OR c.problems @> '[{{"rule": "duplicate_title"}}]')
      AND coalesce(s.others, 0) <> coalesce((
          SELECT (p -> 'params' ->> 'count')::int FROM jsonb_array_elements(c.problems) p
          WHERE p ->> 'rule' = 'duplicate_title' LIMIT 1), 0)
    ORDER BY 1
"""  # noqa: S608 - constant SQL; the account is a parameter


def listings_to_check(account_id: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_TO_CHECK, {"account": account_id})
        return [row[0] for row in cursor.fetchall()]


def check_changed_listings(account_id: int, batch: int = BATCH) -> int:
    """After a listings run: check each card whose check this run's changes make stale once, in
    batches (listings_to_check finds them, partners included, so no batch re-checks another's).
    Checking per page re-checked every card of the page and every card sharing a title with one
    of them, unchanged or not: a templated catalogue re-checked itself on every page."""
    ids = listings_to_check(account_id)
    for start in range(0, len(ids), batch):
        check_listings(ids[start : start + batch], with_partners=False)
    return len(ids)


def check_all_listings(*, account_id: int | None = None, category_ids: Sequence[str] | None = None,
                       batch: int = BATCH) -> int:
    """Every listing (of an account, of some categories) in batches by id. Returns checks written.
    Partners are not added: the whole set is checked anyway, and a dictionary's change (the
    categories stream) changes no card's duplicates."""
    listings = Listing.objects.order_by("pk")
    if account_id is not None:
        listings = listings.filter(account_id=account_id)
    if category_ids is not None:
        listings = listings.filter(category_id__in=list(category_ids))
    written, last = 0, 0
    while True:
        ids = list(listings.filter(pk__gt=last).values_list("pk", flat=True)[:batch])
        if not ids:
            return written
        written += check_listings(ids, with_partners=False)
        last = ids[-1]


def check_listing_draft(
    listing: Listing, title: str, description: str, attributes: Sequence[dict[str, Any]], images: Sequence[Any],
) -> list[Problem]:
    """The problems an edit of `listing` would have, before it is pushed: the page blocks the push
    on an ERROR and warns on a WARNING. Nothing is stored."""
    marketplace = listing.account.marketplace
    dictionaries = _category_attributes({(marketplace, listing.category_id)} if listing.category_id else set())
    duplicates: list[str] = []
    if title.strip():
        duplicates = sorted(
            Listing.objects.annotate(lower_title=Lower("title"))
            .filter(account_id=listing.account_id, lower_title=title.strip().lower(), archived=False,
                    missing_since__isnull=True)
            .exclude(pk=listing.pk).order_by().values_list("offer_id", flat=True)[:10]
        )
    return check_card(
        marketplace, title=title, description=description, attributes=attributes, images=images,
        category_attributes=dictionaries.get((marketplace, listing.category_id)) if listing.category_id else None,
        duplicates=duplicates,
    )


def blocking(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that should stop a push (the marketplace would refuse the card)."""
    return [p for p in problems if p.severity == ERROR]
