"""Who is acting, and from where: set once per request, command or task, read by the audit log.

Services never take request objects; the middleware (web and API requests), `command_context`
(management commands) and the Celery signal hooks (background tasks) put the facts here, and
`core.models.AuditEvent` copies them into every row it writes.

For API requests the user is only known once DRF has authenticated the request inside the view;
DRF sets `user` and `auth` on the underlying Django request as well, so the context keeps the
request and reads them when an event is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class Channel:
    WEB = "web"
    API = "api"
    COMMAND = "command"
    SYNC = "sync"
    SYSTEM = "system"

    CHOICES = [(WEB, "web"), (API, "API"), (COMMAND, "command"), (SYNC, "sync"), (SYSTEM, "system")]


API_PREFIX = "/api/"
USER_AGENT_MAX = 255


@dataclass
class ActingContext:
    channel: str = Channel.SYSTEM
    label: str = ""  # command or task name when no user acts
    ip: str | None = None
    user_agent: str = ""
    request: HttpRequest | None = field(default=None, repr=False)

    def user(self) -> Any:
        user = getattr(self.request, "user", None)
        return user if user is not None and getattr(user, "is_authenticated", False) else None

    def token_id(self) -> int | None:
        # DRF puts the authenticating ApiToken on the request (session auth puts None); the marker
        # spares this module an import of core.models, which imports it.
        auth: Any = getattr(self.request, "auth", None)
        return int(auth.pk) if getattr(auth, "is_api_token", False) else None


_current: contextvars.ContextVar[ActingContext | None] = contextvars.ContextVar("prilavok_acting", default=None)


def current() -> ActingContext:
    """The active context; outside any request, command or task: the system channel."""
    return _current.get() or ActingContext()


@contextlib.contextmanager
def acting(context: ActingContext) -> Iterator[ActingContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def command_context(name: str) -> contextlib.AbstractContextManager[ActingContext]:
    """Wrap a management command's work: its audit events say channel=command and its name."""
    return acting(ActingContext(channel=Channel.COMMAND, label=f"command:{name}"))


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The real client address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the address the
    outermost trusted proxy saw. Each proxy appends its peer to X-Forwarded-For, so only the last
    `count` hops are ours; anything left of them was written by the client and may be forged.
    The login lockout (AXES_CLIENT_IP_CALLABLE) and the audit trail both use it."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    chain = hops + ([remote] if remote else [])
    if len(chain) <= count:
        # Fewer hops than proxies configured: the request did not come through them all.
        return _address(chain[0]) if chain else None
    return _address(chain[-(count + 1)]) or remote


def context_for_request(request: HttpRequest) -> ActingContext:
    return ActingContext(
        channel=Channel.API if request.path.startswith(API_PREFIX) else Channel.WEB,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        request=request,
    )


class ActingContextMiddleware:
    """Sets the acting context for the duration of each request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting(context_for_request(request)):
            return self.get_response(request)


# Celery: every task runs with channel=sync unless it was started inside another context
# (an eager task called from a request keeps the request's context).
_task_tokens: dict[str, contextvars.Token[ActingContext | None]] = {}


def _task_started(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if _current.get() is not None or task_id is None:
        return
    name = getattr(task, "name", "") or "task"
    _task_tokens[task_id] = _current.set(ActingContext(channel=Channel.SYNC, label=f"task:{name}"))


def _task_finished(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        _current.reset(token)


def connect_task_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, dispatch_uid="core.acting.task_prerun", weak=False)
    task_postrun.connect(_task_finished, dispatch_uid="core.acting.task_postrun", weak=False)
