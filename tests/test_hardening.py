"""Production hardening: the container health probe under production settings, the login lockout keyed on the
real client behind a proxy, the Content-Security-Policy, and the configurable session lifetime."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from core.request_context import client_ip
from core.roles import Role
from tests.foundation_support import PASSWORD, client_for, make_user
from tests.test_security import BASE_DIR, _deploy_env

PROBE = """
from django.test import Client
client = Client()
print("health", client.get("/health", HTTP_HOST="127.0.0.1:8000").status_code)
print("page-unknown-host", client.get("/login/", HTTP_HOST="127.0.0.1:8000").status_code)
print("page-http", client.get("/login/", HTTP_HOST="shop.example.com").status_code)
"""


def test_the_compose_health_probe_passes_with_production_settings() -> None:
    """docker-compose probes http://127.0.0.1:8000/health inside the container: not an allowed host, not HTTPS."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=BASE_DIR,
        env=_deploy_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    statuses = dict(line.split()[:2] for line in result.stdout.splitlines() if line.startswith(("health", "page-")))
    assert statuses["health"] == "200"
    # The rest of the site keeps its production guards.
    assert statuses["page-unknown-host"] == "400"
    assert statuses["page-http"] == "301"


def _request(remote: str, forwarded: str | None = None) -> object:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


class TestClientAddress:
    @override_settings(TRUSTED_PROXY_COUNT=0)
    def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(self) -> None:
        assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_one_proxy_the_address_it_saw_is_the_client(self) -> None:
        assert client_ip(_request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
        # A client forging entries on the left cannot choose its address: only our proxy's entry counts.
        assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"

    @override_settings(TRUSTED_PROXY_COUNT=2)
    def test_behind_two_proxies(self) -> None:
        assert client_ip(_request("10.0.0.3", "1.2.3.4, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_a_garbage_entry_falls_back_to_the_proxy_address(self) -> None:
        assert client_ip(_request("10.0.0.2", "not-an-ip")) == "10.0.0.2"
        assert client_ip(_request("10.0.0.2")) == "10.0.0.2"


def _login(client: Client, username: str, password: str, forwarded: str) -> object:
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded
    )


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_lockout_behind_a_proxy_keys_on_the_client_not_the_proxy() -> None:
    make_user(Role.MANAGER, "mila", password=PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), "mila", "wrong-password", forwarded="198.51.100.7")
    assert _login(Client(), "mila", PASSWORD, forwarded="198.51.100.7").status_code == 429
    # Forging a new leftmost address does not escape the lockout...
    assert _login(Client(), "mila", PASSWORD, forwarded="1.2.3.4, 198.51.100.7").status_code == 429
    # ...while the same user behind the same proxy from another client address is not locked out.
    assert _login(Client(), "mila", PASSWORD, forwarded="198.51.100.8").status_code == 302


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy_with_a_fresh_nonce() -> None:
    client = client_for(make_user(Role.ANALYST))
    first, second = client.get("/"), client.get("/")
    policy = first["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]


SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_script_the_policy_would_block() -> None:
    """Inline code runs only with the request's nonce; event-handler attributes never run under the policy."""
    offenders = []
    for path in sorted((BASE_DIR / "templates").rglob("*.html")) + sorted(BASE_DIR.glob("*/templates/**/*.html")):
        text = Path(path).read_text()
        for tag in SCRIPT_TAG.findall(text):
            executable = "application/json" not in tag and "application/ld+json" not in tag
            if executable and "src=" not in tag and "csp_nonce" not in tag:
                offenders.append(f"{path.relative_to(BASE_DIR)}: {tag}")
        offenders += [f"{path.relative_to(BASE_DIR)}: {m.group(1)}=" for m in INLINE_HANDLER.finditer(text)]
    assert offenders == []


@pytest.mark.django_db
@override_settings(SESSION_COOKIE_AGE=3600)
def test_the_session_lasts_the_configured_time() -> None:
    make_user(Role.MANAGER, "mila", password=PASSWORD)
    client = Client()
    client.post("/login/", {"username": "mila", "password": PASSWORD})
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 3600
    assert 0 < client.session.get_expiry_age() <= 3600
