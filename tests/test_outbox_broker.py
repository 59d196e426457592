"""A broker outage at commit time delays a push but never loses it or breaks the write."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from config.env import database_url
from integrations import outbox
from integrations.models import OutboxChange
from tests.outbox_support import make_account

ROOT = Path(__file__).resolve().parents[1]


def test_doorbell_with_the_broker_down_logs_and_returns():
    """In a fresh process whose broker is a closed port: ring_doorbell must not raise."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": "redis://127.0.0.1:1/7",  # nothing listens on port 1
        "DATABASE_URL": database_url(db),
    }
    code = (
        "import django; django.setup();"
        "from integrations.outbox import ring_doorbell; ring_doorbell(1, 'ozon'); print('returned')"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "returned" in done.stdout
    assert "the sweep will" in done.stderr  # the warning names the fallback
    assert time.monotonic() - started < 30


@pytest.mark.django_db
def test_a_row_whose_doorbell_was_lost_is_found_by_the_sweep():
    account = make_account()
    row = outbox.record_change(account, OutboxChange.Kind.PRICE, "100001", {"price": "1.00"})
    # No on-commit callback ran (pytest-django's test transaction never commits): the message is lost.
    assert outbox.sweep() == [(account.pk, account.marketplace)]
    assert OutboxChange.objects.get(pk=row.pk).status == OutboxChange.Status.PENDING
