from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class RussianFirstLocaleMiddleware(LocaleMiddleware):
    """Russian unless the user chose otherwise with the switcher (the language cookie).

    The browser's Accept-Language is ignored on purpose: a seller's team shares one Russian UI
    whatever language their browsers happen to be set to.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class HealthCheckMiddleware:
    """Answers the container health check before host validation and the HTTPS redirect.

    The probe calls http://127.0.0.1:8000/health from inside the container: that host is not in a production
    ALLOWED_HOSTS and the scheme is plain HTTP, so through the normal stack it gets 400 or 301 and the
    container is reported unhealthy. The answer reveals only whether the database responds.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/health" and request.method in ("GET", "HEAD"):
            from core.views import health  # the view stays routable at /health for direct use

            return health(request)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Content-Security-Policy on every response (settings.CONTENT_SECURITY_POLICY, empty to turn it off).

    Scripts come only from our own static files; an inline <script> must carry the per-request nonce
    (`{{ request.csp_nonce }}`), so injected markup cannot run code.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy.replace("{nonce}", nonce)
        return response
