"""notify(): fan a message out to the users who want it, in the app and by email.

Producers call `notify(kind, subject, message, link, severity)`; `subject` names what the message is
about (e.g. `account:5:orders`) and is the dedupe key: a (kind, subject) already notified within the
window is not notified again, so a sync failing every five minutes sends one message, not twelve an hour.
Emails leave after commit from a Celery task, never inside the caller's request or transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from core.audit import audit_record, diff
from core.roles import Role, role_of
from notifications.kinds import Kind, Severity, default_channels
from notifications.models import Notification, NotificationPreference

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(hours=6)
UNREAD_CACHE_SECONDS = 300
# The task that runs send_emails(), sent by its registered name: notifications.tasks imports this module.
EMAIL_TASK = "notifications.send_emails"  # notifications.tasks.send_notification_emails


def unread_cache_key(user: Any) -> str:
    # The join time tells apart two users that got the same id (a restored or recreated database),
    # so a count cached for one is never shown to the other.
    joined = int(user.date_joined.timestamp() * 1_000_000) if getattr(user, "date_joined", None) else 0
    return f"notifications:unread:{user.pk}:{joined}"


@dataclass(frozen=True)
class Channels:
    in_app: bool
    email: bool


def preferences_for(user: Any) -> dict[str, Channels]:
    """Every kind → the user's channels (their choice, else their role's default)."""
    chosen = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    return _resolve(role_of(user), chosen)


def _resolve(
    role: Role | None, chosen: dict[str, NotificationPreference], *, directed: bool = False
) -> dict[str, Channels]:
    """A message addressed to the user (their own API token expiring) reaches them by both channels
    unless they chose otherwise; a broadcast follows their role's defaults."""
    result = {}
    for kind in Kind:
        if kind in chosen:
            result[kind.value] = Channels(chosen[kind].in_app, chosen[kind].email)
        elif directed:
            result[kind.value] = Channels(True, True)
        else:
            result[kind.value] = Channels(*default_channels(kind, role))
    return result


@transaction.atomic
def preferences_save(*, user: Any, choices: dict[str, Channels]) -> None:
    """Store the user's choices; what changed is audited (kind: in the app / by email, old → new)."""
    before = preferences_for(user)
    for kind, channels in choices.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=Kind(kind), defaults={"in_app": channels.in_app, "email": channels.email}
        )
    old, new = diff(_as_text(before), _as_text({**before, **{Kind(k).value: c for k, c in choices.items()}}))
    if new:
        audit_record(action="notifications.preferences_changed", obj=user, old=old, new=new)


def _as_text(preferences: dict[str, Channels]) -> dict[str, str]:
    return {
        kind: "+".join(name for name, on in (("in_app", channels.in_app), ("email", channels.email)) if on) or "off"
        for kind, channels in preferences.items()
    }


def _lock_subject(kind: str, subject: str) -> None:
    """Serialise notify() calls for one (kind, subject) until the transaction ends."""
    digest = hashlib.blake2b(f"{kind}\0{subject}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])


def notify(
    kind: str,
    subject: str,
    message: str,
    link: str = "",
    severity: str = Severity.WARNING,
    *,
    title: str | None = None,
    users: Iterable[Any] | None = None,
    window: timedelta = DEFAULT_WINDOW,
) -> list[Notification]:
    """Notify every active user who wants `kind` (or only `users`: then by both channels unless
    they opted out); returns the rows written (none when the same (kind, subject) was notified
    within `window`)."""
    kind, severity = Kind(kind).value, Severity(severity).value
    subject = subject[:200]
    with transaction.atomic():
        _lock_subject(kind, subject)
        since = timezone.now() - window
        if Notification.objects.filter(kind=kind, subject=subject, created_at__gte=since).exists():
            return []
        rows = []
        for user, channels in _audience(users):
            wanted = channels.get(kind)
            if wanted is None or not (wanted.in_app or wanted.email):
                continue
            rows.append(
                Notification(
                    user=user, kind=kind, subject=subject, severity=severity, title=(title or message)[:200],
                    message=message, link=link, in_app=wanted.in_app, email=wanted.email,
                )
            )
        created = Notification.objects.bulk_create(rows)
        cache.delete_many([unread_cache_key(row.user) for row in created if row.in_app])
        to_mail = [row.pk for row in created if row.email and row.user.email]
        if to_mail:
            transaction.on_commit(lambda: current_app.tasks[EMAIL_TASK].delay(to_mail))
    return created


def _audience(users: Iterable[Any] | None) -> list[tuple[Any, dict[str, Channels]]]:
    """Active users with their channels per kind: three queries whatever the number of users."""
    query = get_user_model().objects.filter(is_active=True)
    if users is not None:
        query = query.filter(pk__in=[u.pk for u in users])
    people = list(query.prefetch_related("groups").order_by("pk"))
    chosen: dict[int, dict[str, NotificationPreference]] = {}
    for pref in NotificationPreference.objects.filter(user__in=[p.pk for p in people]):
        chosen.setdefault(pref.user_id, {})[pref.kind] = pref
    directed = users is not None
    return [
        (person, _resolve(_role_from_prefetched(person), chosen.get(person.pk, {}), directed=directed))
        for person in people
    ]


def _role_from_prefetched(user: Any) -> Role | None:
    if user.is_superuser:
        return Role.ADMIN
    names = {group.name for group in user.groups.all()}
    for role in (Role.ADMIN, Role.MANAGER, Role.ANALYST):
        if role.group_name in names:
            return role
    return None


# ---------------------------------------------------------------------------------------------
# Reading and marking (the user's own notifications only)


def unread_count(user: Any) -> int:
    """At most one query, cached per user; notify() and mark_read() drop the cached figure."""
    key = unread_cache_key(user)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(user=user, in_app=True, read_at__isnull=True).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return int(count)


def notifications_for(user: Any) -> Any:
    return Notification.objects.filter(user=user, in_app=True).order_by("-created_at", "-id")


def mark_read(*, user: Any, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ids is None); returns how many."""
    query = Notification.objects.filter(user=user, in_app=True, read_at__isnull=True)
    if ids is not None:
        query = query.filter(pk__in=list(ids))
    changed = query.update(read_at=timezone.now())
    cache.delete(unread_cache_key(user))
    return changed


def send_emails(notification_ids: list[int]) -> int:
    """Mail each not-yet-mailed notification to its user; returns how many were sent."""
    from django.conf import settings
    from django.core.mail import send_mail

    sent = 0
    rows = Notification.objects.select_related("user").filter(
        pk__in=notification_ids, email=True, emailed_at__isnull=True
    )
    for row in rows:
        if not row.user.email:
            continue
        body = row.message
        if row.link:
            body += f"\n\n{str(settings.SITE_URL).rstrip('/')}{row.link}"
        try:
            send_mail(f"[Prilavok] {row.title}", body, None, [row.user.email])
        except OSError:
            logger.exception("notification %s: the email could not be sent", row.pk)
            continue
        Notification.objects.filter(pk=row.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
        sent += 1
    return sent
