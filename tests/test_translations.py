"""The Russian catalogue is whole: every plural message has all the forms its header declares, as
gettext's msgfmt --check demands (polib, which compiles it here, would write a catalogue without them,
and Django would then show the English text for the missing numbers)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
from django.conf import settings


def test_every_plural_message_has_every_plural_form() -> None:
    for locale_dir in settings.LOCALE_PATHS:
        for path in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
            catalogue = polib.pofile(str(path))
            declared = re.search(r"nplurals\s*=\s*(\d+)", catalogue.metadata["Plural-Forms"])
            assert declared, path
            forms = int(declared.group(1))
            short = [entry.msgid for entry in catalogue if entry.msgid_plural and not entry.obsolete
                     and sorted(entry.msgstr_plural) != list(range(forms))]
            assert short == [], f"{path}: plural messages without all {forms} forms"
