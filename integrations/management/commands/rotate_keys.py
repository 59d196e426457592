"""Re-encrypt every stored secret under the primary key of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it), run this command
until it reports 0 remaining, then remove the old key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.accounts import accounts_rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt marketplace credentials under the primary encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=100)

    def handle(self, *args: Any, **options: Any) -> None:
        result = accounts_rotate_keys(batch_size=options["batch_size"])
        self.stdout.write(
            f"Primary key: {result.primary_key_id}. Re-encrypted: {result.rotated}; "
            f"already on the primary key: {result.already_current}; "
            f"skipped (locked, re-run): {result.skipped_locked}; failed: {len(result.failed)}."
        )
        if result.failed:
            ids = ", ".join(str(pk) for pk in result.failed)
            raise CommandError(f"No configured key opens the credentials of account(s) {ids}; keep the old key.")
