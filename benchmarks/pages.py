"""Benchmark of the pages at a large seller's scale (a script, not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python benchmarks/pages.py [--scale 0.1]

Loads the sync benchmark's scale-1 volumes straight into a fresh database <DATABASE_URL's name>_pagebench
(INSERT … SELECT generate_series, no sandbox: a few minutes at scale 1): 100k listings across 3 accounts,
750k orders with 925k lines, 129k reviews, 1.06M finance operations, and the daily sales roll-up rebuilt
from them. `--reuse` keeps a database loaded at the same scale by an earlier run.

Then runs gunicorn (2 workers on 127.0.0.1), logs in as 4 users and has them request every list and
detail page at once, the filtered, searched and deep ones included, for --rounds rounds. Deep pages are
found as a user finds them: by following the "next" link of each list (keyset cursors), or by ?page=N
where the list still pages by number. The SQL queries of each page are counted in this process, through
Django's test client. Prints per page its time for one user alone (best of 2, no queue), p50/p95/max
with the users at once (2 workers for 4 users: a request also waits for the one ahead of it, so a slow
page slows every page, /health included), its queries, and the worst page.
Targets: p95 <= 300 ms and <= 15 queries on every page, at any depth. `--explain` also prints EXPLAIN
(ANALYZE, BUFFERS) of each page's slowest statement; `--only REGEX` measures the pages so named.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sync import free_port  # noqa: E402

TARGET_P95_MS = 300
TARGET_QUERIES = 15
USERNAME, PASSWORD = "bench-admin", "bench-pages-password-42"
MARKETPLACES = ["ozon", "wildberries", "yandex_market"]
SCHEMES = {"ozon": ["FBO", "FBS"], "wildberries": ["FBO", "FBS"], "yandex_market": ["FBS", "DBS"]}
DAYS_OF_ORDERS = 104  # 90 days hold ~650k of the 750k orders, as in the measurements


@dataclass(frozen=True)
class Volumes:
    products: int  # per marketplace: each account lists the whole catalogue
    orders: int  # per account
    reviews: int
    questions: int
    finance: int
    sync_runs: int

    @classmethod
    def at(cls, scale: float) -> Volumes:
        def n(value: int) -> int:
            return max(10, round(value * scale))

        return cls(n(33_334), n(250_000), n(43_000), n(5_000), n(353_334), 3_000)


# ---------------------------------------------------------------------------------------------
# Loading


def bench_database(url: str, reuse: bool) -> tuple[str, bool]:
    """The benchmark's database next to DATABASE_URL's: (its URL, whether it must be loaded)."""
    import psycopg

    parts = urlparse(url)
    name = (parts.path.lstrip("/") or "postgres") + "_pagebench"
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not (reuse and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parts._replace(path=f"/{name}")), not (reuse and exists)


_DEFAULTS = {
    "character varying": "''", "text": "''", "integer": "0", "smallint": "0", "bigint": "0", "numeric": "0",
    "boolean": "false", "jsonb": "'{}'", "ARRAY": "'{}'", "timestamp with time zone": "now()", "date": "current_date",
}


def insert(cursor: Any, table: str, columns: dict[str, str], source: str, n: int = 0) -> int:
    """INSERT INTO table (columns) SELECT expressions {source}, with {N} replaced by `n` (no query
    parameters: the expressions use %). Required columns this script does not know (added by later
    migrations) get their type's zero, so the benchmark outlives schema growth."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'",
        [table],
    )
    extra = {name: _DEFAULTS[kind] for name, kind in cursor.fetchall() if name not in columns and kind in _DEFAULTS}
    every = {**columns, **extra}
    names = ", ".join(f'"{name}"' for name in every)
    sql = f"INSERT INTO {table} ({names}) SELECT {', '.join(every.values())} {source}"
    started = time.perf_counter()
    cursor.execute(sql.replace("{N}", str(int(n))))
    print(f"  {table:28} {cursor.rowcount:>10} rows {time.perf_counter() - started:6.1f}s", flush=True)
    return int(cursor.rowcount)


def load(volumes: Volumes) -> None:
    """The data a large seller's sync leaves, generated in PostgreSQL (deterministic: setseed)."""
    from django.db import connection, transaction

    from core.roles import Role, set_role
    from integrations.models import MarketplaceAccount

    accounts = []
    for marketplace in MARKETPLACES:
        account = MarketplaceAccount(marketplace=marketplace, name=f"Bench {marketplace}",
                                     client_id="100500" if marketplace == "ozon" else "",
                                     business_id="700100" if marketplace == "yandex_market" else "")
        account.set_credentials({"api_key": f"bench-key-{marketplace}-0000"})
        account.save()
        accounts.append(account)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(USERNAME, password=PASSWORD, is_staff=True, is_superuser=True)
    set_role(user, Role.ADMIN)

    ids = [a.pk for a in accounts]
    p = volumes.products
    accts = f"(VALUES (0, {ids[0]}::bigint, 'ozon'), (1, {ids[1]}, 'wildberries'), (2, {ids[2]}, 'yandex_market'))"
    article = "'ART-' || lpad(({expr})::text, 6, '0')"
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT setseed(0.42)")
        c.execute("SET LOCAL synchronous_commit = off")
        insert(c, "catalog_product", {
            "created_at": "now()", "updated_at": "now()", "article": article.format(expr="g"),
            "name": "'Товар ' || g || ' ' || (ARRAY['футболка','кружка','рюкзак','наушники','чехол','лампа',"
                    "'кроссовки','шапка'])[1 + g % 8] || ' ' || (ARRAY['красный','синий','чёрный','белый',"
                    "'зелёный'])[1 + g % 5]",
            "brand": "(ARRAY['Acme','Северный','Terra','Polar'])[1 + g % 4]", "description": "''",
            "barcodes": "ARRAY['46' || lpad(g::text, 11, '0')]", "currency": "'RUB'", "images": "'[]'",
            "cost_price": "(100 + g % 900)::numeric",
        }, "FROM generate_series(1, {N}) g", p)
        insert(c, "catalog_listing", {
            "external_id": "(a.k * 100000000 + pr.id)::text", "offer_id": "pr.article",
            "marketplace_sku": "(a.k * 100000000 + 50000000 + pr.id)::text", "link_source": "'article'",
            "title": "pr.name", "description": "''", "brand": "pr.brand", "category": "'Категория ' || pr.id % 50",
            "barcodes": "pr.barcodes", "attributes": "'{}'", "images": "'[]'", "variants": "'[]'",
            "status": "'active'",
            # One card in 40 carries a marketplace error (the "errors" problem filter has rows to find).
            "marketplace_errors": "CASE WHEN (pr.id + a.k) % 40 = 0 THEN '[\"Неверный штрихкод\"]'::jsonb "
                                  "ELSE '[]'::jsonb END",
            "archived": "pr.id % 50 = 0", "created_at": "now()", "updated_at": "now()", "account_id": "a.id",
            # One card in 200 is not linked to a product (the card page shows such a card alone).
            "product_id": "CASE WHEN (pr.id + a.k) % 200 = 7 THEN NULL ELSE pr.id END",
        }, f"FROM catalog_product pr CROSS JOIN {accts} a(k, id, m)")
        # Every card's stored listing check, as the listings stream leaves it: no photos is an error.
        insert(c, "catalog_listingcheck", {
            "listing_id": "l.id", "score": "CASE WHEN l.id % 4 = 0 THEN 65 ELSE 75 END",
            "problems": """'[{"rule": "images_too_few", "severity": "error", "params": {"min": 1, "count": 0}, '
                        '"source": "bench", "url": ""}]'::jsonb || CASE WHEN l.id % 4 = 0 THEN '[{"rule": '
                        '"title_length_recommended", "severity": "warning", "params": {"min": 50, "max": 60, '
                        '"length": 20}, "source": "bench", "url": ""}]'::jsonb ELSE '[]'::jsonb END""",
            "problem_count": "1 + (l.id % 4 = 0)::int", "checked_at": "now()",
        }, "FROM catalog_listing l")
        c.execute("ANALYZE catalog_product, catalog_listing")  # the joins below are planned from statistics
        insert(c, "pricing_price", {
            "price": "(200 + l.id % 4800)::numeric + 0.90", "old_price": "(300 + l.id % 4800)::numeric",
            "currency": "'RUB'", "updated_at": "now()", "listing_id": "l.id",
        }, "FROM catalog_listing l")
        insert(c, "catalog_warehouse", {
            "external_id": "'wh-' || w", "name": "'Склад ' || w", "kind": "CASE WHEN w = 1 THEN 'marketplace' "
            "ELSE 'seller' END", "is_active": "true", "raw_status": "''", "created_at": "now()",
            "updated_at": "now()", "account_id": "a.id",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN generate_series(1, 3) w")
        insert(c, "catalog_stocklevel", {
            "present": "l.id % 40", "reserved": "l.id % 3", "updated_at": "now()", "listing_id": "l.id",
            "warehouse_id": "(SELECT min(w.id) FROM catalog_warehouse w WHERE w.account_id = l.account_id)",
        }, "FROM catalog_listing l")
        # The seller's own (FBS) warehouse too, for the stock page's own rows and its filters.
        insert(c, "catalog_stocklevel", {
            "present": "(l.id * 7) % 25", "reserved": "0", "updated_at": "now()", "listing_id": "l.id",
            "warehouse_id": "(SELECT max(w.id) FROM catalog_warehouse w WHERE w.account_id = l.account_id)",
        }, "FROM catalog_listing l")
        # Orders: g numbers them per account, newest first; one line each, a second for 7 in 30.
        n = volumes.orders
        first = f"((g * 7919) % {p} + 1)"
        second = f"((g * 104729) % {p} + 1)"
        status = (
            "CASE WHEN age < 3 THEN (ARRAY['new','processing','ready_to_ship','in_delivery','cancelled'])"
            "[1 + g % 5] WHEN age < 14 THEN (ARRAY['in_delivery','delivered','delivered','delivered','cancelled',"
            "'returned'])[1 + g % 6] ELSE (ARRAY['delivered','delivered','delivered','delivered','delivered',"
            "'delivered','cancelled','returned'])[1 + g % 8] END"
        )
        insert(c, "orders_order", {
            "external_id": "a.m || '-' || g", "order_number": "'N' || g",
            "scheme": "(CASE a.m WHEN 'ozon' THEN ARRAY['FBO','FBS'] WHEN 'wildberries' THEN ARRAY['FBO','FBS'] "
                      "ELSE ARRAY['FBS','DBS'] END)[1 + g % 2]",
            "status": status, "raw_status": status, "raw_substatus": "''", "ordered_at": "at",
            "status_changed_at": "at + interval '2 hours'", "shipment_due_at": "at + interval '1 day'",
            "buyer_city": "(ARRAY['Москва','Санкт-Петербург','Казань','Новосибирск','Екатеринбург'])[1 + g % 5]",
            "tracking_number": "''",
            "total_amount": f"(100 + {first} % 4900) * (1 + (g % 10 = 0)::int) "
                            f"+ CASE WHEN g % 30 < 7 THEN 100 + {second} % 4900 ELSE 0 END",
            # What the buyer paid: reported by WB and YM, not by Ozon (the inbox's "largest paid first").
            "buyer_total": f"CASE WHEN a.m = 'ozon' THEN NULL "
                           f"ELSE (100 + {first} % 4900) * (1 + (g % 10 = 0)::int) END",
            "currency": "'RUB'", "external_updated_at": "at", "created_at": "now()", "updated_at": "now()",
            "account_id": "a.id",
            "warehouse_id": "(SELECT min(w.id) FROM catalog_warehouse w WHERE w.account_id = a.id)",
        }, f"""FROM {accts} a(k, id, m) CROSS JOIN LATERAL (
                SELECT g, now() - (g::float8 / {{N}}) * interval '{DAYS_OF_ORDERS} days'
                       - random() * interval '20 minutes' AS at
                FROM generate_series(1::bigint, {{N}}) g) s
               CROSS JOIN LATERAL (SELECT extract(day FROM now() - s.at) AS age) x""", n)
        line = """FROM (SELECT o.id, o.account_id, substr(o.order_number, 2)::bigint AS g FROM orders_order o) o
                  LEFT JOIN catalog_listing l ON l.account_id = o.account_id AND l.offer_id = {article}"""
        insert(c, "orders_orderline", {
            "line_key": "'1'", "offer_id": article.format(expr=first), "name": "'Товар ' || " + first,
            "quantity": "1 + (g % 10 = 0)::int", "price": f"100 + {first} % 4900", "currency": "'RUB'",
            "commission": f"(100 + {first} % 4900) * 0.15", "listing_id": "l.id", "order_id": "o.id",
        }, line.format(article=article.format(expr=first)))
        insert(c, "orders_orderline", {
            "line_key": "'2'", "offer_id": article.format(expr=second), "name": "'Товар ' || " + second,
            "quantity": "1", "price": f"100 + {second} % 4900", "currency": "'RUB'", "commission": "NULL",
            "listing_id": "l.id", "order_id": "o.id",
        }, line.format(article=article.format(expr=second)) + " WHERE o.g % 30 < 7")
        c.execute("ANALYZE orders_order, orders_orderline")
        insert(c, "orders_orderstatuschange", {
            "from_status": "''", "to_status": "status", "raw_status": "raw_status", "changed_at": "ordered_at",
            "source": "'sync'", "recorded_at": "now()", "order_id": "id",
        }, "FROM orders_order")
        insert(c, "orders_return", {
            "external_id": "'R-' || o.external_id", "order_external_id": "o.external_id", "offer_id": "ol.offer_id",
            "kind": "CASE WHEN o.status = 'returned' THEN 'unredeemed' ELSE 'return' END",
            "quantity": "ol.quantity", "reason": "'Не подошёл размер'", "raw_status": "'returned'",
            "amount": "ol.price * ol.quantity", "currency": "'RUB'", "returned_at": "o.ordered_at + interval '7 days'",
            "external_updated_at": "o.ordered_at + interval '7 days'", "created_at": "now()", "updated_at": "now()",
            "account_id": "o.account_id", "listing_id": "ol.listing_id", "order_id": "o.id",
        }, """FROM orders_order o JOIN orders_orderline ol ON ol.order_id = o.id AND ol.line_key = '1'
              WHERE o.status = 'returned' OR (o.status = 'delivered' AND o.id % 40 = 0)""")
        feedback = {
            "external_id": "a.m || '-' || g", "offer_id": article.format(expr=f"(g * 31) % {p} + 1"), "sku": "''",
            "author": "'Покупатель ' || g % 1000", "published_at": "now() - (g::float8 / {N}) * interval '365 days'",
            "raw_status": "''", "created_at": "now()", "updated_at": "now()", "account_id": "a.id",
            "listing_id": "l.id",
        }
        by_offer = ("LEFT JOIN catalog_listing l ON l.account_id = a.id AND l.offer_id = "
                    + article.format(expr=f"(g * 31) % {p} + 1"))
        insert(c, "reviews_review", {
            **feedback, "rating": "1 + g % 5", "text": "'Отзыв ' || g || ': товар как на фото'", "pros": "''",
            "cons": "''", "photos_count": "g % 3", "is_answered": "g % 10 >= 3",
            "answer_text": "CASE WHEN g % 10 >= 3 THEN 'Спасибо за отзыв!' ELSE '' END",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN generate_series(1, {{N}}) g {by_offer}", volumes.reviews)
        insert(c, "reviews_question", {
            **feedback, "text": "'Вопрос ' || g || ': есть ли другой размер?'", "is_answered": "g % 4 > 0",
            "answer_text": "CASE WHEN g % 4 > 0 THEN 'Да' ELSE '' END",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN generate_series(1, {{N}}) g {by_offer}", volumes.questions)
        insert(c, "reviews_replytemplate", {
            "created_at": "now()", "updated_at": "now()", "name": "'Шаблон ' || g", "text": "'Спасибо, {name}!'",
            "min_rating": "NULL", "max_rating": "NULL", "for_questions": "g % 2 = 0",
        }, "FROM generate_series(1, 8) g")
        insert(c, "analytics_financeoperation", {
            "external_id": "a.m || '-op-' || g",
            "operation_type": "(ARRAY['Продажа','Доставка покупателю','Возврат','Хранение','Эквайринг'])[1 + g % 5]",
            "operation_at": f"now() - (g::float8 / {{N}}) * interval '{DAYS_OF_ORDERS} days'",
            "order_external_id": f"a.m || '-' || (1 + g % {n})", "offer_id": article.format(expr=f"(g * 13) % {p} + 1"),
            "quantity": "1", "sale_amount": "CASE WHEN g % 5 = 0 THEN 100 + g % 4900 ELSE 0 END",
            "amount": "CASE WHEN g % 5 = 0 THEN 85 + g % 4000 ELSE -(10 + g % 300) END", "currency": "'RUB'",
            "created_at": "now()", "updated_at": "now()", "account_id": "a.id",
            # Linked to the order it names, as the finance ingest links them (the reconciliation reads the link).
            "order_id": f"(SELECT o.id FROM orders_order o WHERE o.account_id = a.id "
                        f"AND o.external_id = a.m || '-' || (1 + g % {n}))",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN generate_series(1, {{N}}) g", volumes.finance)
        insert(c, "analytics_feeline", {
            "kind": "'commission'", "name": "'Комиссия за продажу'", "amount": "-(sale_amount * 0.15)",
            "operation_id": "id",
        }, "FROM analytics_financeoperation WHERE sale_amount > 0")
        # Ad statistics (analytics.AdSpendDaily): one Ozon and WB card in 20 advertised every day of the
        # orders' span, in one of seven campaigns (every tenth card in two), as the ads stream stores them.
        insert(c, "analytics_adspenddaily", {
            "account_id": "l.account_id", "day": "(now() AT TIME ZONE 'Europe/Moscow')::date - d",
            "campaign_id": "(30000000 + (l.id + k) % 7)::text", "item_ref": "l.marketplace_sku",
            "offer_id": "l.offer_id", "listing_id": "l.id", "campaign_name": "'Кампания ' || (l.id + k) % 7",
            "currency": "'RUB'", "spend": "round(((l.id * 7 + d * 13) % 900 + 50)::numeric / 7, 2)",
            "views": "(l.id * 3 + d * 11) % 2000 + 100", "clicks": "(l.id + d * 7) % 90 + 5",
            "orders": "(l.id + d) % 6", "ordered_amount": "((l.id + d) % 6) * (500 + l.id % 3000)",
            "updated_at": "now()",
        }, f"FROM catalog_listing l JOIN {accts} a(k0, id, m) ON a.id = l.account_id AND a.m <> 'yandex_market' "
           f"CROSS JOIN generate_series(0, {DAYS_OF_ORDERS - 1}) d CROSS JOIN generate_series(0, 1) k "
           "WHERE l.id % 20 = 0 AND (k = 0 OR l.id % 200 = 0)")
        insert(c, "core_auditevent", {
            "actor_id": str(user.pk), "actor_label": f"'{USERNAME}'", "channel": "'web'",
            "action": "(ARRAY['listing.content','stock.set','price.set','account.update'])[1 + g % 4]",
            "object_type": "'listing'", "object_id": "g::text", "old": "'{\"title\": \"Было\"}'",
            "new": "'{\"title\": \"Стало\"}'", "details": "'{}'",
            "created_at": "now() - g * interval '3 minutes'",
        }, "FROM generate_series(1, {N}) g", volumes.reviews)
        insert(c, "notifications_notification", {
            "user_id": str(user.pk),
            "kind": "(ARRAY['sync_failed','push_rejected','low_rating','stockout_ahead'])[1 + g % 4]",
            "subject": "'bench:' || g", "severity": "'warning'", "title": "'Уведомление ' || g",
            "message": "'Текст уведомления ' || g", "link": "'/orders/'", "in_app": "true", "email": "false",
            "created_at": "now() - g * interval '10 minutes'",
        }, "FROM generate_series(1, {N}) g", max(10, volumes.questions // 10))
        insert(c, "integrations_syncrun", {
            "stream": "(ARRAY['warehouses','listings','prices','stocks','orders','returns','reviews','questions',"
                      "'promotions','finance'])[1 + g % 10]",
            "status": "CASE WHEN g % 97 = 0 THEN 'failed' ELSE 'succeeded' END", "full": "false",
            "trigger": "'beat'", "started_at": "now() - g * interval '5 minutes'",
            "heartbeat_at": "now() - g * interval '5 minutes' + interval '1 minute'",
            "finished_at": "now() - g * interval '5 minutes' + interval '1 minute'",
            "fetched": "g % 500", "created": "0", "updated": "g % 50", "unchanged": "0", "errors": "0", "pages": "1",
            "error_message": "''", "progress": "'{}'", "account_id": "a.id",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN generate_series(1, {{N}}) g", volumes.sync_runs // 3)
        # Promotions desk and money at risk: 20 promotions per account (two ended), each open to a
        # twentieth of the catalogue with a third joined; floors for every card, a fiftieth above its price.
        insert(c, "pricing_promotion", {
            "external_id": "'' || g", "title": "'Акция ' || g", "kind": "'DISCOUNT'",
            "starts_at": "now() - g * interval '1 day'", "ends_at": "now() + (18 - g) * interval '1 day'",
            "is_participating": "true", "description": "''", "created_at": "now()", "updated_at": "now()",
            "account_id": "a.id",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN generate_series(1, 20) g")
        insert(c, "pricing_promotionoffer", {
            "promotion_id": "pr.id", "offer_key": "l.external_id", "listing_id": "l.id",
            "status": "CASE WHEN l.id % 3 = 0 THEN 'participating' ELSE 'eligible' END",
            "action_price": "round(p.price * 0.8)", "max_action_price": "round(p.price * 0.85)",
            "base_price": "p.price", "currency": "'RUB'", "updated_at": "now()",
        }, "FROM pricing_promotion pr JOIN catalog_listing l ON l.account_id = pr.account_id "
           "AND l.id % 20 = pr.external_id::int % 20 JOIN pricing_price p ON p.listing_id = l.id")
        insert(c, "pricing_cardfloor", {
            "listing_id": "p.listing_id", "floor": "round(p.price * CASE WHEN p.listing_id % 50 = 0 THEN 1.2 "
            "ELSE 0.7 END, 2)", "problem": "''", "scheme": "'fbs'", "computed_at": "now()",
        }, "FROM pricing_price p")
        # Repricing: two competitors' prices for a twentieth of the cards, rules on 20 of those cards
        # (following the competitor) and on 10 products (a target margin), a run of the card rules.
        insert(c, "pricing_competitorprice", {
            "listing_id": "p.listing_id", "competitor": "(ARRAY['Магазин А','Магазин Б'])[k]",
            "url": "''", "price": "round(p.price * (0.9 + k * 0.03), 2)", "currency": "'RUB'",
            "observed_at": "now() - k * interval '1 hour'", "source": "'import'",
        }, "FROM pricing_price p CROSS JOIN generate_series(1, 2) k WHERE p.listing_id % 20 = 3")
        insert(c, "pricing_repricingrule", {
            "name": "'Ниже конкурента ' || l.offer_id", "listing_id": "l.id", "strategy": "'beat_competitor'",
            "step": "10", "step_unit": "'rub'", "rounding": "'9'", "competitor_max_age_hours": "72",
            "enabled": "true", "brand": "''", "category": "''", "marketplace": "''", "competitor": "''",
            "created_at": "now()", "updated_at": "now()",
        }, "FROM catalog_listing l WHERE l.id % 20 = 3 AND l.id < 2000")
        insert(c, "pricing_repricingrule", {
            "name": "'Маржа 20 % ' || pr.article", "product_id": "pr.id", "strategy": "'target_margin'",
            "target_margin_percent": "20", "step": "1", "step_unit": "'rub'", "rounding": "'99'",
            "competitor_max_age_hours": "72", "enabled": "true", "brand": "''", "category": "''",
            "marketplace": "''", "competitor": "''", "created_at": "now()", "updated_at": "now()",
        }, "FROM catalog_product pr WHERE pr.id % 1000 = 7 AND pr.id < 11000")
        insert(c, "pricing_repricingrun", {
            "all_rules": "false", "trigger": "'schedule'", "slot": "'bench'", "state": "'done'",
            "created_at": "now()", "started_at": "now()", "finished_at": "now()", "cards": "20", "changed": "0",
            "skipped": "20", "decisions": "'[]'", "error": "''",
        }, "FROM generate_series(1, 1)")
        insert(c, "pricing_repricingrun_rules", {
            "repricingrun_id": "(SELECT max(id) FROM pricing_repricingrun)", "repricingrule_id": "r.id",
        }, "FROM pricing_repricingrule r WHERE r.listing_id IS NOT NULL")
        # What the card economics read besides the finance averages: the accounts' legal entity (УСН 6 %)
        # and fee rates as the fees stream stores them, a commission per category of each account and a
        # logistics rate per account and scheme in two price brackets.
        insert(c, "pricing_legalentity", {
            "name": "'ИП Бенчмарков'", "inn": "''", "tax_regime": "'usn_income'", "vat_rate": "0",
            "cost_includes_vat": "false", "created_at": "now()", "updated_at": "now()",
        }, "FROM generate_series(1, 1)")
        insert(c, "pricing_legalentityaccount", {
            "account_id": "a.id", "legal_entity_id": "(SELECT min(id) FROM pricing_legalentity)",
        }, f"FROM {accts} a(k, id, m)")
        insert(c, "pricing_feerate", {
            "account_id": "a.id", "listing_id": "NULL", "category": "'Категория ' || cat", "scheme": "''",
            "kind": "'commission'", "name": "'Комиссия'", "percent": "10 + cat % 12", "fixed": "0",
            "per_extra_litre": "0", "per_day": "false", "currency": "'RUB'",
            "effective_from": "current_date - 30", "source": "'api'", "created_at": "now()",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN generate_series(0, 49) cat")
        insert(c, "pricing_feerate", {
            "account_id": "a.id", "listing_id": "NULL", "category": "''", "scheme": "s.scheme", "kind": "'logistics'",
            "name": "'Логистика ' || b", "percent": "0", "fixed": "CASE WHEN b = 1 THEN 55 ELSE 90 END",
            "per_extra_litre": "0", "price_from": "CASE WHEN b = 1 THEN NULL ELSE 1000 END",
            "price_to": "CASE WHEN b = 1 THEN 1000 ELSE NULL END", "per_day": "false", "currency": "'RUB'",
            "effective_from": "current_date - 30", "source": "'api'", "created_at": "now()",
        }, f"FROM {accts} a(k, id, m) CROSS JOIN (VALUES ('fbo'), ('fbs')) s(scheme) "
           "CROSS JOIN generate_series(1, 2) b")
    with connection.cursor() as c:
        started = time.perf_counter()
        c.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE {time.perf_counter() - started:.1f}s", flush=True)
    from analytics import finance_rollup
    from analytics.rollup import rebuild

    started = time.perf_counter()
    for account_id in ids:
        rebuild(account_id)
    print(f"  sales roll-up rebuilt in {time.perf_counter() - started:.1f}s", flush=True)
    from pricing.risk import refresh_money_at_risk

    started = time.perf_counter()
    counts = refresh_money_at_risk(notify=False)
    from supply.forecast import refresh_forecasts

    forecasts = refresh_forecasts()
    print(f"  stock forecast: {forecasts.products} products, {forecasts.cards} cards", flush=True)
    print(f"  money at risk {sum(counts.values())} rows in {time.perf_counter() - started:.1f}s", flush=True)
    started = time.perf_counter()
    for account_id in ids:
        finance_rollup.rebuild(account_id)
    print(f"  finance roll-up rebuilt in {time.perf_counter() - started:.1f}s", flush=True)
    from analytics.reconciliation import refresh_account

    started = time.perf_counter()
    found = sum(refresh_account(account_id).total for account_id in ids)
    print(f"  reconciliation: {found} discrepancies in {time.perf_counter() - started:.1f}s", flush=True)


# ---------------------------------------------------------------------------------------------
# The pages


@dataclass
class Page:
    name: str
    url: str
    deep: tuple[str, int] | None = None  # (list url, pages to go down): resolved by discover()


def pages(volumes: Volumes, scale: float) -> list[Page]:
    from analytics.models import FinanceOperation
    from catalog.models import Listing
    from integrations.models import MarketplaceAccount
    from orders.models import Order
    from pricing.models import Promotion

    account = MarketplaceAccount.objects.order_by("pk").first()
    order = Order.objects.order_by("-ordered_at").only("pk", "external_id")[1000]
    operation = FinanceOperation.objects.order_by("-operation_at").only("pk", "external_id")[1000]
    listing = Listing.objects.filter(archived=False, product__isnull=False).order_by("pk").only(
        "pk", "offer_id", "title", "product_id")[500]
    unlinked = Listing.objects.filter(product__isnull=True).order_by("pk").only("pk").first()
    priced = list(Listing.objects.filter(price__isnull=False).order_by("pk").values_list("pk", flat=True)[:20])
    promotion = Promotion.objects.filter(account=account).order_by("pk").only("pk").first()
    from pricing.models import RepricingRule, RepricingRun

    card_rule = RepricingRule.objects.filter(listing__isnull=False).order_by("pk").first()
    product_rule = RepricingRule.objects.filter(product__isnull=False).order_by("pk").first()
    repricing_run = RepricingRun.objects.order_by("pk").first()
    assert card_rule is not None and product_rule is not None and repricing_run is not None
    assert unlinked is not None
    assert account is not None
    from reviews.models import Review

    review = Review.objects.filter(is_answered=False).order_by("-published_at").only("pk")[100]
    word = listing.title.split()[2]  # e.g. "рюкзак": a name search that matches an eighth of the catalogue
    deep_orders, deep_catalogue = max(2, round(500 * scale)), max(2, round(1000 * scale))
    from datetime import timedelta

    from analytics.period import today as moscow_today

    today = moscow_today()
    return [
        Page("health (the floor)", "/health"),
        Page("overview", "/"),
        Page("orders", "/orders/"),
        Page("orders FBO", "/orders/?scheme=FBO"),
        Page("orders WB", "/orders/?marketplace=wildberries"),
        Page("orders delivered Ozon", "/orders/?marketplace=ozon&status=delivered"),
        Page(f"orders page {deep_orders}", "", ("/orders/", deep_orders)),
        Page("shipping desk", "/orders/shipping/"),
        Page("shipping desk overdue WB", "/orders/shipping/?marketplace=wildberries&deadline=overdue"),
        Page("shipping desk page 5", "", ("/orders/shipping/", 5)),
        Page("orders largest paid", "/orders/?sort=amount"),
        Page("orders overdue", "/orders/?shipment=overdue&sort=due"),
        Page("orders to assemble today", "/orders/?shipment=today&sort=due"),
        Page("orders city FBS", "/orders/?city=Казань&scheme=FBS"),
        Page("orders search article", f"/orders/?q={listing.offer_id}"),
        Page("orders search number", f"/orders/?q={order.external_id}"),
        Page("order", f"/orders/{order.pk}/"),
        Page("orders CSV article", f"/orders/export.csv?q={listing.offer_id}"),
        Page("orders XLSX article", f"/orders/export.xlsx?q={listing.offer_id}"),
        Page("returns", "/orders/returns/"),
        Page("returns Ozon unredeemed", "/orders/returns/?marketplace=ozon&kind=unredeemed"),
        Page(f"returns page {max(2, deep_orders // 10)}", "", ("/orders/returns/", max(2, deep_orders // 10))),
        Page("returns by reason", "/orders/returns/reasons/"),
        Page("returns CSV article", f"/orders/returns/export.csv?q={listing.offer_id}"),
        Page("catalogue", "/catalog/"),
        Page(f"catalogue page {deep_catalogue}", "", ("/catalog/", deep_catalogue)),
        Page("catalogue search article", f"/catalog/?q={listing.offer_id}"),
        Page("catalogue search name", f"/catalog/?q={word}"),
        Page("catalogue of a product", f"/catalog/?product={listing.product_id}"),
        Page("products", "/catalog/products/"),
        Page("products search name", f"/catalog/products/?q={word}"),
        Page("products with errors", "/catalog/products/?problem=errors"),
        Page("products low stock", "/catalog/products/?stock=low"),
        Page("product", f"/catalog/products/{listing.product_id}/"),
        Page("card without a product", f"/catalog/cards/{unlinked.pk}/"),
        Page("stock", "/catalog/stock/"),
        Page("stock low own", "/catalog/stock/?kind=seller&state=low"),
        Page("catalogue import", "/catalog/import/"),
        Page("cards CSV WB search", f"/catalog/export/listings.csv?marketplace=wildberries&q={word}"),
        Page("notifications", "/notifications/"),
        Page("settings audit", "/settings/audit/"),
        Page("settings tokens", "/settings/tokens/"),
        Page("card economics", f"/prices/economics/{listing.pk}/"),
        Page("prices", "/prices/"),
        Page(f"prices page {deep_catalogue}", "", ("/prices/", deep_catalogue)),
        Page("prices search", f"/prices/?q={listing.offer_id}"),
        Page("price editor preview", f"/prices/editor/product/{listing.product_id}/?price=1990"),
        Page("price formula preview 20 cards", "/prices/editor/bulk/?operation=increase&value=5&rounding=9&"
             + "&".join(f"listings={pk}" for pk in priced[:20])),
        Page("price history", "/prices/history/"),
        Page("card price history", f"/prices/history/card/{listing.pk}/"),
        Page("promotions", "/prices/promotions/"),
        Page("promotion joined", f"/prices/promotions/{promotion.pk}/"),
        Page("promotion can join", f"/prices/promotions/{promotion.pk}/?tab=eligible"),
        Page("promotion below floor", f"/prices/promotions/{promotion.pk}/?tab=eligible&below_floor=true"),
        Page("money at risk", "/prices/risk/"),
        Page("money at risk in promotions", "/prices/risk/?reason=promo_below_floor"),
        Page(f"money at risk page {max(2, round(20 * scale))}", "", ("/prices/risk/", max(2, round(20 * scale)))),
        Page("repricing rules", "/prices/rules/"),
        Page("repricing rule", f"/prices/rules/{card_rule.pk}/"),
        Page("repricing preview card rule", f"/prices/rules/{card_rule.pk}/preview/"),
        Page("repricing preview product rule", f"/prices/rules/{product_rule.pk}/preview/"),
        Page("repricing preview every rule", "/prices/rules/preview/"),
        Page("repricing runs", "/prices/rules/runs/"),
        Page("repricing run", f"/prices/rules/runs/{repricing_run.pk}/"),
        Page("competitor prices", "/prices/rules/competitors/"),
        Page("competitor prices of a card", f"/prices/rules/competitors/?listing={card_rule.listing_id}"),
        Page("competitor prices import", "/prices/rules/competitors/import/"),
        Page("api repricing rules", "/api/v1/repricing-rules/"),
        Page("api competitor prices", "/api/v1/competitor-prices/"),
        Page("analytics 90 days", "/analytics/?days=90"),
        Page("analytics CSV 90 days", "/analytics/sales.csv?days=90"),
        Page("overview 90 days", "/?days=90"),
        Page("profit by product 30 days", "/analytics/profit/?days=30"),
        Page("profit by brand 90 days", "/analytics/profit/?days=90&by=brand"),
        Page("profit by marketplace 90 days", "/analytics/profit/?days=90&by=marketplace"),
        Page("profit XLSX 30 days", "/analytics/profit.xlsx?days=30"),
        Page("advertising 30 days", "/analytics/ads/?days=30"),
        Page("advertising WB 90 days", "/analytics/ads/?days=90&marketplace=wildberries"),
        Page("advertising CSV 30 days", "/analytics/ads.csv?days=30"),
        Page("ABC XYZ 90 days", "/analytics/abc/?days=90"),
        Page("ABC XYZ by profit AX", "/analytics/abc/?days=90&measure=profit&cell=AX"),
        Page("ABC XYZ CSV 90 days", "/analytics/abc.csv?days=90"),
        Page("reconciliation 30 days", "/analytics/reconciliation/"),
        Page("reconciliation WB underpaid largest", "/analytics/reconciliation/?days=90&marketplace=wildberries"
             "&kind=underpaid&sort=difference"),
        Page(f"reconciliation page {deep_orders}", "", ("/analytics/reconciliation/?days=90", deep_orders)),
        Page("reconciliation CSV Ozon underpaid 7 days", "/analytics/reconciliation.csv?days=7&marketplace=ozon"
             "&kind=underpaid"),
        Page("api reconciliation discrepancies", "/api/v1/discrepancies/?kind=no_payout&sort=difference"),
        # The reports' other groupings, filters, a custom period and deep pages of their tables.
        Page("profit by category 7 days", "/analytics/profit/?days=7&by=category"),
        Page("profit by account 30 days WB", "/analytics/profit/?days=30&by=account&marketplace=wildberries"),
        Page("profit custom 60 days", f"/analytics/profit/?start={today - timedelta(days=59)}&end={today}"),
        Page("profit by product page 20", "", ("/analytics/profit/?days=90", 20)),
        Page("ABC XYZ by revenue 30 days Ozon", "/analytics/abc/?days=30&marketplace=ozon"),
        Page("ABC XYZ cell CZ page 5", "", ("/analytics/abc/?days=90&cell=CZ", 5)),
        Page("reviews", "/reviews/"),
        Page("reviews unanswered", "/reviews/?answered=no"),
        Page("reviews templates", "/reviews/templates/"),
        # The customer inbox (reviews and questions in one list): filters, product search, a deep page.
        Page("inbox questions unanswered", "/reviews/?kind=question&answered=no"),
        Page("inbox 1★ reviews WB", "/reviews/?kind=review&rating=1&marketplace=wildberries&answered=no"),
        Page("inbox account newest", f"/reviews/?account={account.pk}&sort=newest"),
        Page("inbox flagged", "/reviews/?flagged=true"),
        Page("inbox search product", f"/reviews/?q={listing.offer_id}"),
        Page("inbox search name", f"/reviews/?q={word}&answered=no"),
        Page(f"inbox page {deep_orders}", "", ("/reviews/", deep_orders)),
        Page("inbox answer form", f"/reviews/review/{review.pk}/answer/"),
        Page("purchasing", "/supply/"),
        Page("purchasing order now", "/supply/?urgency=order_now"),
        Page("purchasing search", f"/supply/?q={listing.offer_id}"),
        Page("suppliers", "/supply/suppliers/"),
        Page("settings", "/settings/"),
        Page("settings account", f"/settings/accounts/{account.pk}/"),
        Page("api accounts", "/api/v1/accounts/"),
        Page("api forecasts order now", "/api/v1/forecasts/?urgency=order_now"),
        Page("api supplier products", "/api/v1/supplier-products/"),
        Page("api price batches", "/api/v1/price-batches/"),
        Page("admin orders", "/admin/orders/order/"),
        Page("admin orders search", f"/admin/orders/order/?q={order.external_id}"),
        Page("admin order", f"/admin/orders/order/{order.pk}/change/"),
        Page("admin order lines", "/admin/orders/orderline/"),
        Page("admin returns", "/admin/orders/return/"),
        Page("admin finance", "/admin/analytics/financeoperation/"),
        Page("admin finance search", f"/admin/analytics/financeoperation/?q={operation.external_id}"),
        Page("admin finance operation", f"/admin/analytics/financeoperation/{operation.pk}/change/"),
        Page("admin listings", "/admin/catalog/listing/"),
        Page("admin listings search", f"/admin/catalog/listing/?q={listing.offer_id}"),
        Page("admin listing", f"/admin/catalog/listing/{listing.pk}/change/"),
        Page("admin reviews", "/admin/reviews/review/"),
        Page("admin sync runs", "/admin/integrations/syncrun/"),
        Page("admin sales daily", "/admin/analytics/salesdaily/"),
    ]


_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S | re.I)
_HREF = re.compile(r'href="([^"]*)"')
_NEXT_WORDS = ("&rarr;", "→", "next", "далее", "дальше", "вперёд", "следующ", "»", "&raquo;")


def next_link(page_url: str, body: str) -> str | None:
    """The list's "next page" link: rel="next", else the pagination link that says next."""
    candidates = []
    for attrs, text in _ANCHOR.findall(body):
        href = _HREF.search(attrs)
        if not href:
            continue
        if re.search(r'rel="[^"]*\bnext\b', attrs):
            return urljoin(page_url, html.unescape(href.group(1)))
        label = html.unescape(re.sub(r"<[^>]+>", "", text)).strip().lower()
        if any(word in label or word in text.lower() for word in _NEXT_WORDS) and "?" in href.group(1):
            candidates.append(urljoin(page_url, html.unescape(href.group(1))))
    return candidates[-1] if candidates else None


def discover(client: Any, start: str, depth: int) -> tuple[str, str]:
    """The URL `depth` pages down a list, as a user gets there; and how it was found."""
    url = start
    for step in range(1, depth):
        response = client.get(url)
        response.raise_for_status()
        following = next_link(str(response.url), response.text)
        if following is None:
            return url, f"last page after {step}"
        parsed = urlparse(following)
        if re.search(r"(^|&)page=2(&|$)", parsed.query):  # numbered pages: jump as a user typing ?page=N
            query = re.sub(r"(^|&)page=\d+", rf"\g<1>page={depth}", parsed.query)
            return f"{parsed.path}?{query}", "?page=N"
        url = f"{parsed.path}?{parsed.query}"
    return url, f"followed {depth - 1} next links"


# ---------------------------------------------------------------------------------------------
# Running


def start_gunicorn(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    import httpx

    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).raise_for_status()
            return process
        except httpx.HTTPError:
            if process.poll() is not None:
                output = process.stderr.read().decode()[-2000:] if process.stderr else ""
                raise SystemExit(f"gunicorn exited: {output}") from None
            time.sleep(0.3)
    process.kill()
    raise SystemExit("gunicorn did not start in 60 s")


def login(base: str) -> Any:
    import httpx

    client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
    form = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, "no CSRF token on the login page"
    data = {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    response = client.post("/login/", data=data, headers={"Referer": base + "/login/"})
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")
    client.follow_redirects = True
    return client


@dataclass
class Timings:
    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def user_session(base: str, urls: list[tuple[str, str]], rounds: int, seed: int, timings: Timings,
                 barrier: threading.Barrier) -> None:
    import random

    client = login(base)
    order = list(urls)
    barrier.wait()
    for round_number in range(rounds):
        random.Random(seed * 1000 + round_number).shuffle(order)
        for name, url in order:
            started = time.perf_counter()
            response = client.get(url)
            _ = response.content
            elapsed = (time.perf_counter() - started) * 1000
            with timings.lock:
                timings.ms[name].append(elapsed)
                if response.status_code != 200:
                    timings.errors[name] = f"HTTP {response.status_code}"


def count_queries(urls: list[tuple[str, str]], explain: bool = False) -> dict[str, int]:
    """Queries per page through Django's test client in this process (same database, same code)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username=USERNAME))
    counts = {}
    for name, url in urls:
        client.get(url)  # the session's first touch and the overview's minute cache are not the page's
        with CaptureQueriesContext(connection) as queries:
            # A redirect (a large export handed to a report job) is counted with the page it leads to.
            response = client.get(url, follow=True)
            if response.streaming:
                b"".join(response.streaming_content)  # an export's rows are read as it streams
        counts[name] = len(queries) if response.status_code == 200 else -response.status_code
        if explain:
            explain_slowest(name, queries.captured_queries)
    return counts


def explain_slowest(name: str, captured: list[dict[str, str]]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT the page ran (a server-side cursor's too), and the plan of
    the slowest by its execution time."""
    from django.db import connection

    plans = []
    for query in captured:
        sql = query["sql"]
        declared = re.match(r"DECLARE\s+\S+\s.*?CURSOR\s+(?:WITH(?:OUT)?\s+HOLD\s+)?FOR\s+", sql, re.S | re.I)
        if declared:
            sql = sql[declared.end():]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            lines = [row[0] for row in cursor.fetchall()]
        took = next((float(line.split(":")[1].split()[0]) for line in lines if line.startswith("Execution Time")), 0.0)
        plans.append((took, sql, lines))
    if not plans:
        return
    took, sql, lines = max(plans, key=lambda plan: plan[0])
    total = sum(plan[0] for plan in plans)
    print(f"\n{name}: slowest of {len(plans)} SELECTs {took:.1f} ms (all {total:.1f} ms)\n  {sql[:600]}\n"
          + "\n".join("    " + line for line in lines), flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100k listings, 750k orders, 925k lines")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="times each user requests every page")
    parser.add_argument("--reuse", action="store_true", help="keep the database an earlier run loaded")
    parser.add_argument("--only", default="", help="a regular expression: measure only the pages whose name matches")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN (ANALYZE, BUFFERS) of each page's slowest statement")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("Set DATABASE_URL (a PostgreSQL server; the benchmark uses its own database on it).")

    volumes = Volumes.at(args.scale)
    os.environ["DATABASE_URL"], fresh = bench_database(os.environ["DATABASE_URL"], args.reuse)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["AXES_FAILURE_LIMIT"] = "1000"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("compile_translations", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    if fresh:
        print(f"loading scale {args.scale}: {volumes}", flush=True)
        started = time.perf_counter()
        load(volumes)
        print(f"loaded in {time.perf_counter() - started:.0f}s", flush=True)
    from analytics.report_cache import warm

    started = time.perf_counter()  # as beat's warm-reports keeps them in a running installation
    print(f"report snapshots warmed: {warm()} in {time.perf_counter() - started:.1f}s", flush=True)
    from django.conf import settings

    from dashboard.selectors import warm as warm_overview

    if settings.REDIS_URL:  # beat's warm-overview: the workers read it from the shared cache
        started = time.perf_counter()
        print(f"overview warmed: {warm_overview()} in {time.perf_counter() - started:.1f}s", flush=True)
    else:
        print("no REDIS_URL: each worker computes the overview on its first view (cold, as without beat)")
    plan = [page for page in pages(volumes, args.scale) if re.search(args.only, page.name)]

    port = free_port()
    env = {**os.environ, "DB_CONN_MAX_AGE": "60"}
    server = start_gunicorn(port, env)
    base = f"http://127.0.0.1:{port}"
    try:
        scout = login(base)
        urls: list[tuple[str, str]] = []
        for page in plan:
            if page.deep:
                started = time.perf_counter()
                url, how = discover(scout, *page.deep)
                print(f"  {page.name}: {url[:90]} ({how}, {time.perf_counter() - started:.0f}s)", flush=True)
                urls.append((page.name, url))
            else:
                urls.append((page.name, page.url))
        alone: dict[str, float] = {}
        for name, url in urls:  # warms each worker and PostgreSQL's buffers; then one user alone, no queue
            scout.get(url)
            times = []
            for _ in range(2):
                started = time.perf_counter()
                scout.get(url).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            alone[name] = min(times)
        print(f"{args.users} users x {args.rounds} rounds x {len(urls)} pages", flush=True)
        load_before = os.getloadavg()[0]
        timings = Timings()
        barrier = threading.Barrier(args.users)
        threads = [threading.Thread(target=user_session, args=(base, urls, args.rounds, i, timings, barrier))
                   for i in range(args.users)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    queries = count_queries(urls, args.explain)

    print()
    print(f"{'page':32} {'alone ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}  ")
    worst = ("", 0.0)
    failures = []
    for name, _url in urls:
        values = timings.ms[name]
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        over = p95 > TARGET_P95_MS or queries[name] > TARGET_QUERIES or queries[name] < 0 or name in timings.errors
        if over:
            failures.append(name)
        if p95 > worst[1]:
            worst = (name, p95)
        note = timings.errors.get(name, "") + ("  over target" if over else "")
        print(f"{name:32} {alone[name]:8.0f} {p50:8.0f} {p95:8.0f} {max(values):8.0f} {queries[name]:8}  {note}")
    requests = sum(len(v) for v in timings.ms.values())
    print()
    print(f"{requests} requests in {wall:.0f}s ({requests / wall:.1f}/s) by {args.users} users, scale {args.scale}")
    print(f"machine load average (1 min) {load_before:.1f} before the timed run, {os.getloadavg()[0]:.1f} after, "
          f"on {os.cpu_count()} cores: other work on the machine inflates every figure")
    print(f"worst page: {worst[0]} (p95 {worst[1]:.0f} ms)")
    print(f"pages over target (p95 <= {TARGET_P95_MS} ms, <= {TARGET_QUERIES} queries): {len(failures)} of {len(urls)}"
          + (f": {', '.join(failures)}" if failures else ""))


if __name__ == "__main__":
    main()
