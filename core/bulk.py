"""Bulk idempotent upserts: COPY rows into a temp table, then one INSERT … ON CONFLICT DO UPDATE.

The update is guarded by `(cols) IS DISTINCT FROM (EXCLUDED cols)`, so a row whose values did not
change is not rewritten (its updated_at stays, no dead tuple, no WAL). One call returns how many
rows were created, updated and left unchanged, and how many staged rows were skipped because the
source SELECT dropped them (e.g. a stock row whose listing is not known yet).

Measured on the project's box (reliability-security-performance.md §4.1): ~190k rows/s when nothing
changed, ~95k rows/s when everything did — 3-7x the ORM's bulk_create(update_conflicts=True).
Must run inside a transaction (the temp table is dropped on commit).

Batches look rows up by key: a batch is a few thousand rows, and every table it is matched
against (the target, the orders of its lines, the listings of its offers) has an index on the key.
Written as joins, these lookups were planned from table statistics, and PostgreSQL hashed the
account's whole table once per batch, so a batch cost as much as the table held (106k finance
operations: 158 ms for 5,000 rows by hash join, 31 ms by index), or, while a first sync outgrew
the statistics, scanned a table once per staged row. So the target is probed by a scalar
subquery on its unique key and the specs' sources look up other tables in `LATERAL (… LIMIT 1)`
subqueries: both run per staged row through the index, whatever the statistics say.

Tables that grow fast are still re-analyzed as they grow (see `_note_growth`), for the rest of the
plan and for every other query on them (autovacuum lags a first sync; some servers run without it).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from django.db import DatabaseError, DataError, connection, transaction

logger = logging.getLogger(__name__)

_stage_numbers = itertools.count(1)

# Rows this process inserted per table since it last analyzed it, and the table's size then.
ANALYZE_MIN_ROWS = 20_000
_inserted_since_analyze: dict[str, int] = defaultdict(int)
_size_at_analyze: dict[str, int] = defaultdict(int)
# Rows this process inserted per (table, account) until the table was analyzed with them.
ACCOUNT_FIRST_ROWS = 2_000
_inserted_for_account: dict[tuple[str, Hashable], int] = defaultdict(int)
_analyzed_for_account: set[tuple[str, Hashable]] = set()
# (table, account) pairs whose last batch in this process matched no stored row (see upsert).
_last_batch_all_new: set[tuple[str, Hashable]] = set()


def _note_growth(table: str, inserted: int, account: Hashable | None = None) -> None:
    """ANALYZE `table` once this process has inserted as many rows as it held at the last ANALYZE
    (and at least ANALYZE_MIN_ROWS): the statistics stay within 2x of the truth at O(log n) cost.
    That one runs after the caller's commit, so its lock is never held alongside the transaction's.

    Also once an account's first ACCOUNT_FIRST_ROWS rows are in, and at once, inside the caller's
    transaction (ANALYZE counts the transaction's own new rows): statistics taken before an
    account had rows say it has almost none, and the planner then looks its rows up through any
    index that starts with account_id (e.g. its operations by date) and reads all of them for
    every row of a batch — as the fee lines of the same flush do right after their operations
    (measured: 24 s instead of 0.2 s for 15,000 fee lines)."""
    if inserted <= 0:
        return
    _inserted_since_analyze[table] += inserted
    key = (table, account)
    if account is not None and key not in _analyzed_for_account:
        _inserted_for_account[key] += inserted
        if _inserted_for_account[key] >= ACCOUNT_FIRST_ROWS:
            _analyzed_for_account.add(key)
            _inserted_since_analyze[table] = 0
            _analyze(table)
            return
    if _inserted_since_analyze[table] < max(ANALYZE_MIN_ROWS, _size_at_analyze[table]):
        return
    _inserted_since_analyze[table] = 0
    transaction.on_commit(functools.partial(_analyze, table))


def _analyze(table: str) -> None:
    """Samples a fixed number of rows (~0.1-0.3 s whatever the table's size). Inside a caller's
    transaction it is a savepoint, so a failed ANALYZE does not end the batch."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
            _size_at_analyze[table] = max(0, cursor.fetchone()[0])
    except DatabaseError:  # only statistics: the next growth step tries again
        logger.warning("ANALYZE %s failed", table, exc_info=True)


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.skipped + other.skipped,
        )

    @property
    def written(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class Upsert:
    """What to upsert where.

    stage: the staged columns and their SQL types, in the order of the row tuples.
    insert: the target's columns the source SELECT yields, in order.
    source: a SELECT over `{stage}` (the temp table's alias is `s`) yielding `insert`'s columns;
            None means the staged columns are the target's columns as they are.
    conflict: the target's unique key columns.
    compare: columns updated on conflict, and compared with IS DISTINCT FROM.
    on_insert: columns set to the statement's time for new rows (created_at, updated_at).
    on_update: columns set to the statement's time when a row really changes (updated_at).
    """

    table: str
    stage: Sequence[tuple[str, str]]
    insert: Sequence[str]
    conflict: Sequence[str]
    compare: Sequence[str]
    source: str | None = None
    on_insert: Sequence[str] = ()
    on_update: Sequence[str] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


def dedupe_last(rows: Iterable[Sequence[Any]], key: Callable[[Sequence[Any]], Hashable]) -> list[Sequence[Any]]:
    """Keep the last row per key: ON CONFLICT cannot touch the same row twice in one statement."""
    by_key: dict[Hashable, Sequence[Any]] = {}
    for row in rows:
        by_key[key(row)] = row
    return list(by_key.values())


def _copy_stage(stage_table: str, spec: Upsert, rows: Sequence[Sequence[Any]]) -> None:
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in spec.stage)
    names = ", ".join(name for name, _ in spec.stage)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {stage_table} ({columns}) ON COMMIT DROP")
        raw = cursor.cursor  # the psycopg cursor: Django's wrapper has no COPY
        with raw.copy(f"COPY {stage_table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _stage_rows(stage_table: str, spec: Upsert, rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """COPY `rows` into a new stage table; returns the rows staged. A row PostgreSQL refuses (a
    number out of its column's range, a NUL in a text) would fail the whole batch, and every
    later run would meet it again: the batch is then checked row by row, the bad rows are
    rejected alone (see collect_rejections) and the rest staged. The check runs only after a
    refusal, so a clean batch costs one savepoint more, nothing per row."""
    try:
        with transaction.atomic():
            _copy_stage(stage_table, spec, rows)
        return rows
    except (DataError, psycopg.DataError):  # COPY runs on the raw psycopg cursor, unwrapped by Django
        kept = _without_bad_rows(spec, rows)
        if len(kept) == len(rows):
            raise  # no row's value explains it: not ours to skip
    _copy_stage(stage_table, spec, kept)
    return kept


# ---------------------------------------------------------------------------------------------
# Rows PostgreSQL would refuse


_rejections: ContextVar[list[str] | None] = ContextVar("bulk_rejections", default=None)
_INT_RANGES = {"smallint": 2**15, "integer": 2**31, "int": 2**31, "bigint": 2**63}
_NUMERIC = re.compile(r"numeric\((\d+),\s*(\d+)\)")
_VARCHAR = re.compile(r"varchar\((\d+)\)")


@contextmanager
def collect_rejections() -> Iterator[list[str]]:
    """Within the block, rows upsert/copy_insert rejected (each named, with its bad value) are
    appended to the list yielded; outside any such block they are only logged."""
    found: list[str] = []
    token = _rejections.set(found)
    try:
        yield found
    finally:
        _rejections.reset(token)


def _reject(table: str, row_name: str, problem: str) -> None:
    message = f"{table} row {row_name}: {problem}"
    logger.warning("rejected %s", message)
    found = _rejections.get()
    if found is not None:
        found.append(message)


def _value_problem(value: Any, sql_type: str) -> str | None:
    """Why PostgreSQL would refuse `value` in a column of `sql_type`, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        if sql_type == "jsonb" and "\\u0000" in value:
            return "contains a NUL character (\\u0000)"
        length = _VARCHAR.fullmatch(sql_type)
        if length and len(value) > int(length.group(1)):
            return f"text longer than {length.group(1)} characters"
        return None
    bound = _INT_RANGES.get(sql_type)
    if bound is not None and isinstance(value, int) and not -bound <= value < bound:
        return f"{value} out of range for {sql_type}"
    numeric = _NUMERIC.fullmatch(sql_type)
    if numeric and isinstance(value, Decimal | int | float):
        number = Decimal(value)
        whole_digits = int(numeric.group(1)) - int(numeric.group(2))
        if not number.is_finite() or abs(number) >= Decimal(10) ** whole_digits:
            return f"{value} out of range for {sql_type}"
    return None


def _row_name(spec: Upsert, row: Sequence[Any]) -> str:
    """The row's identity for a message: its staged key columns, else its first text columns."""
    names = [name for name, _ in spec.stage]
    conflict = [c for c in spec.conflict if c != "account_id"]
    keys = [c for c in conflict if c in names]
    if len(keys) < len(conflict):  # the key is resolved from staged ids (listing_external_id → listing_id)
        keys = [name for name, sql_type in spec.stage if sql_type == "text"][:3]
    return ", ".join(f"{key}={row[names.index(key)]}" for key in keys)


def _without_bad_rows(spec: Upsert, rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    kept: list[Sequence[Any]] = []
    for row in rows:
        problems = [
            f"{name} {problem}"
            for (name, sql_type), value in zip(spec.stage, row, strict=True)
            if (problem := _value_problem(value, sql_type)) is not None
        ]
        if problems:
            _reject(spec.table, _row_name(spec, row), "; ".join(problems))
        else:
            kept.append(row)
    return kept


def upsert(spec: Upsert, rows: Sequence[Sequence[Any]], *, returning: Sequence[str] = ()) -> tuple[
    UpsertCounts, list[tuple[Any, ...]]
]:
    """Stage `rows` and upsert them in one statement. With `returning`, also return
    (id, *returning) of each row this call created or changed (unchanged rows are not returned)."""
    if not rows:
        return UpsertCounts(), []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("core.bulk.upsert must run inside transaction.atomic()")
    stage_table = f"_stage_{spec.table}_{next(_stage_numbers)}"
    rows = _stage_rows(stage_table, spec, rows)
    if not rows:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {stage_table}")
        return UpsertCounts(), []
    account = _account_of(spec, rows)
    batch_key = (spec.table, account)

    insert_cols = list(spec.insert)
    # Identifiers below come from the Upsert specs in code, never from input; values are COPYed
    # or passed as parameters (hence the S608 waivers).
    default_source = "SELECT " + ", ".join(f"s.{c}" for c in insert_cols) + " FROM {stage} s"  # noqa: S608
    source = (spec.source or default_source).format(stage=stage_table)
    target_cols = ", ".join([*insert_cols, *spec.on_insert])
    # statement_timestamp(), not now(): a page's transaction may hold several statements.
    stamp = "statement_timestamp()"
    source_cols = ", ".join([*(f"src.{c}" for c in insert_cols), *(stamp for _ in spec.on_insert)])
    sets = ", ".join([*(f"{c} = EXCLUDED.{c}" for c in spec.compare), *(f"{c} = {stamp}" for c in spec.on_update)])
    old = ", ".join(f"t.{c}" for c in spec.compare)
    new = ", ".join(f"EXCLUDED.{c}" for c in spec.compare)
    keys = "".join(f", t.{c}" for c in returning)
    # Unchanged rows are dropped before the INSERT: ON CONFLICT DO UPDATE … WHERE false still locks
    # (and so dirties) every conflicting row, while this read-only lookup does not — an unchanged
    # resync costs about a third. The ON CONFLICT guard stays for rows written concurrently.
    # The lookup is a scalar subquery on the unique key, which PostgreSQL runs per staged row
    # through the key's index (see "Batches look rows up by key" above). NULL (no stored row) and
    # false (a changed row) both make the row fresh.
    # While an account's rows are all new (a first sync: the previous batch matched nothing
    # stored), the lookup finds nothing and only costs its probe (a fifth of such a batch), so it
    # is left out; the ON CONFLICT guard alone keeps the result exact. The first batch that meets
    # stored rows turns it back on for the next.
    key_match = " AND ".join(f"t.{c} = src.{c}" for c in spec.conflict)
    incoming = ", ".join(f"src.{c}" for c in spec.compare)
    # ROW(...) keeps a single compared column a row comparison too.
    unchanged_filter = "" if batch_key in _last_batch_all_new else f"""
            WHERE (SELECT ROW({old}) IS NOT DISTINCT FROM ROW({incoming})
                   FROM {spec.table} t WHERE {key_match}) IS NOT TRUE"""  # noqa: S608
    sql = f"""
        WITH src AS MATERIALIZED ({source}),
        fresh AS (
            SELECT src.* FROM src{unchanged_filter}
        ),
        written AS (
            INSERT INTO {spec.table} AS t ({target_cols})
            SELECT {source_cols} FROM fresh AS src
            ON CONFLICT ({", ".join(spec.conflict)}) DO UPDATE SET {sets}
            WHERE ROW({old}) IS DISTINCT FROM ROW({new})
            RETURNING (t.xmax = 0) AS inserted, json_build_array(t.id{keys}) AS written_key
        )
        SELECT (SELECT count(*) FROM src),
               count(*) FILTER (WHERE inserted),
               count(*) FILTER (WHERE NOT inserted),
               {"coalesce(json_agg(written_key), '[]')" if returning else "NULL"}
        FROM written
    """  # noqa: S608
    with connection.cursor() as cursor:
        # No JIT: compiling a batch's statement costs more than running it (its plan's cost, from
        # the size of the tables it looks rows up in, passes the JIT threshold as they grow).
        cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        jit = cursor.fetchone()[0]
        cursor.execute(sql, dict(spec.params))
        matched, created, updated, written = cursor.fetchone()
        cursor.execute("SELECT set_config('jit', %s, true)", [jit])
        cursor.execute(f"DROP TABLE {stage_table}")
    _note_growth(spec.table, created, account)
    if created == matched:
        _last_batch_all_new.add(batch_key)
    else:
        _last_batch_all_new.discard(batch_key)
    if isinstance(written, str):
        written = json.loads(written)
    counts = UpsertCounts(
        created=created, updated=updated, unchanged=matched - created - updated, skipped=len(rows) - matched
    )
    return counts, [tuple(key) for key in written or ()]


def _account_of(spec: Upsert, rows: Sequence[Sequence[Any]]) -> Hashable | None:
    """The account a batch belongs to: its `account` parameter, or its staged account_id."""
    if "account" in spec.params:
        return spec.params["account"]  # type: ignore[no-any-return]
    if spec.stage and spec.stage[0][0] == "account_id":
        return rows[0][0]  # type: ignore[no-any-return]
    return None


def copy_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Plain COPY of new rows (history rows nobody updates, e.g. status changes)."""
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    _note_growth(table, count)
