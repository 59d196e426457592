from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Warnings and problems are checked by their English source text; the UI shows them in Russian."""
    with translation.override("en"):
        yield
