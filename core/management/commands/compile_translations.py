"""Compile locale/*/LC_MESSAGES/*.po into .mo with polib (no dependency on gettext's msgfmt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's .po translation files into .mo files."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                po = polib.pofile(str(po_path))
                # Fuzzy entries are guesses: gettext leaves them out, and so do we.
                for entry in po.fuzzy_entries():
                    po.remove(entry)
                po.save_as_mofile(str(mo_path))
                count += 1
                self.stdout.write(f"{mo_path}: {len(po.translated_entries())} messages")
        self.stdout.write(f"Compiled {count} catalogue(s).")
