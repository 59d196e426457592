"""Sync one marketplace account now, in this process: `manage.py sync NAME [--only a,b] [--full]`."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from integrations.base import AuthError, MarketplaceError, NotAvailableError
from integrations.models import MarketplaceAccount
from integrations.sync import engine, leases
from integrations.sync.streams import STREAM_ORDER

COLUMNS = ("stream", "status", "fetched", "created", "updated", "unchanged", "errors", "seconds")


class Command(BaseCommand):
    help = "Pull every stream (or --only some) of a marketplace account synchronously, with a summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Account name (or id).")
        parser.add_argument("--only", default="", help=f"Comma-separated streams: {', '.join(STREAM_ORDER)}.")
        parser.add_argument("--full", action="store_true", help="Ignore watermarks: re-read everything.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, CI).")

    def handle(self, *args: Any, **options: Any) -> None:
        account = self._account(options["name"])
        streams = self._streams(options["only"])
        try:
            engine.check_account(account)
        except AuthError as exc:
            raise CommandError(f"{account.name}: credentials refused — {engine.describe(exc)}") from exc
        except MarketplaceError as exc:
            self.stderr.write(f"Credential check failed, syncing anyway: {engine.describe(exc)}")

        rows: list[tuple[Any, ...]] = []
        failed = False
        bar = tqdm(total=len(streams), unit="stream", disable=options["no_progress"], dynamic_ncols=True)
        try:
            for stream in streams:
                bar.set_description(stream)
                row, ok, stop = self._run(account, stream, options["full"], bar)
                rows.append(row)
                failed |= not ok
                bar.update(1)
                if stop:
                    break
        finally:
            bar.close()
        self._table(rows)
        if failed:
            raise CommandError(f"Sync of {account.name} failed for: " + ", ".join(r[0] for r in rows if r[1] != "ok"))

    def _run(
        self, account: MarketplaceAccount, stream: str, full: bool, bar: tqdm[Any]
    ) -> tuple[tuple[Any, ...], bool, bool]:
        """One stream -> (table row, succeeded, stop the remaining streams)."""
        started = time.monotonic()

        def on_page(name: str, totals: engine.RunTotals) -> None:
            bar.set_postfix(rows=totals.fetched, pages=totals.pages, refresh=True)

        try:
            run = engine.run_stream(
                account, stream, full=full, trigger="command", on_page=on_page, flush_rows=engine.BATCH_ROWS
            )
        except leases.LeaseBusy:
            return (stream, "busy", 0, 0, 0, 0, 0, 0.0), False, False
        except NotAvailableError as exc:
            # Not covered by the seller's subscription or the token's scope: not a failure of the sync.
            self.stderr.write(f"{stream}: not available for this account — {exc.message}")
            return (stream, "not available", 0, 0, 0, 0, 0, round(time.monotonic() - started, 1)), True, False
        except Exception as exc:
            message = engine.describe(exc)
            self.stderr.write(f"{stream}: {message}")
            failed = account.sync_runs.filter(stream=stream).order_by("-started_at").first()
            counts = (failed.fetched, failed.created, failed.updated, failed.unchanged, failed.errors) if failed else (
                0, 0, 0, 0, 1)
            return (stream, "failed", *counts, round(time.monotonic() - started, 1)), False, isinstance(exc, AuthError)
        seconds = round(time.monotonic() - started, 1)
        return (stream, "ok", run.fetched, run.created, run.updated, run.unchanged, run.errors, seconds), True, False

    def _table(self, rows: list[tuple[Any, ...]]) -> None:
        widths = [max(len(str(c)) for c in col) for col in zip(COLUMNS, *rows, strict=False)]
        line = "  ".join(
            f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths)
        )
        self.stdout.write(line.format(*COLUMNS))
        for row in rows:
            self.stdout.write(line.format(*row))
        totals = [sum(r[i] for r in rows) for i in range(2, 7)]
        self.stdout.write(line.format("total", "", *totals, round(sum(r[7] for r in rows), 1)))

    def _account(self, name: str) -> MarketplaceAccount:
        account = MarketplaceAccount.objects.filter(name=name).first()
        if account is None and name.isdigit():
            account = MarketplaceAccount.objects.filter(pk=int(name)).first()
        if account is None:
            known = ", ".join(MarketplaceAccount.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No marketplace account {name!r} (known: {known}).")
        if not account.enabled:
            raise CommandError(f"Account {account.name!r} is disabled.")
        return account

    def _streams(self, only: str) -> list[str]:
        if not only:
            return list(STREAM_ORDER)
        wanted = [s.strip() for s in only.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in STREAM_ORDER]
        if unknown:
            raise CommandError(f"Unknown stream(s) {', '.join(unknown)}; known: {', '.join(STREAM_ORDER)}.")
        return [s for s in STREAM_ORDER if s in wanted]
