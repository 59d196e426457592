"""Celery app: reliability settings, routing and the beat schedule (config/schedule.py).

Sync and push tasks are idempotent (leases, cursors saved per page, outbox claims), which is what
makes late acks safe: a task whose worker dies is delivered again instead of being lost.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("prilavok")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect  # type: ignore[untyped-decorator]
def _configure(sender: Celery, **kwargs: object) -> None:
    """Runs once the Django settings are loaded (not at import: config/__init__ imports this)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from config.schedule import BEAT_SCHEDULE

    visibility = settings.CELERY_VISIBILITY_TIMEOUT
    # The visibility timeout must exceed the longest task, or Redis hands a running task to a
    # second worker; the hard limit kills a task before that can happen.
    if visibility <= settings.SYNC_TASK_TIME_LIMIT:
        raise ImproperlyConfigured("SYNC_TASK_TIME_LIMIT must be below CELERY_VISIBILITY_TIMEOUT")
    transport_options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if str(settings.CELERY_BROKER_URL).startswith("redis"):
        # kombu scans for messages of dead workers every interval x throttle seconds (default
        # 10 x 10); scan every quarter of the visibility timeout (at most every minute) instead,
        # so a message whose worker died is redelivered soon after the timeout, not 100 s later.
        transport_options.setdefault("unacked_restore_interval", max(1, min(60, visibility // 4)))
        transport_options.setdefault("unacked_restore_throttle", 1)
    sender.conf.update(
        broker_transport_options=transport_options,
        task_acks_late=True,  # ack after the task returns: a crash means redelivery, not loss
        task_reject_on_worker_lost=True,  # a child killed by SIGKILL/OOM requeues its message at once
        worker_prefetch_multiplier=1,  # long, uneven tasks: don't hoard messages a crash would delay
        task_ignore_result=True,  # state lives in SyncRun / OutboxChange rows
        task_soft_time_limit=settings.SYNC_TASK_SOFT_TIME_LIMIT,
        task_time_limit=settings.SYNC_TASK_TIME_LIMIT,
        worker_max_tasks_per_child=200,
        broker_connection_retry_on_startup=True,
        result_backend_transport_options={"visibility_timeout": visibility},
        visibility_timeout=visibility,
        task_routes=("integrations.tasks.route_task",),
        beat_schedule=BEAT_SCHEDULE,
    )


app.autodiscover_tasks()  # <app>/tasks.py
app.autodiscover_tasks(related_name="push_tasks")  # integrations/push_tasks.py (outbox)
