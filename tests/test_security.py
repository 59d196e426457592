"""Security settings that must hold: Argon2, login throttling, deploy checks, error pages, headers."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher
from django.test import Client, override_settings

from core.roles import Role
from tests.foundation_support import PASSWORD, client_for, compile_translations, make_user
from tests.foundation_urls import BOOM_SECRET

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def _russian_catalogue() -> None:
    compile_translations()


def login(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> object:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2() -> None:
    assert get_hasher().algorithm == "argon2"
    user = make_user(Role.ANALYST, password=PASSWORD)
    stored = get_user_model().objects.get(pk=user.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.django_db
class TestLockout:
    def test_login_works(self) -> None:
        make_user(Role.MANAGER, "mila", password=PASSWORD)
        client = Client()
        response = login(client, "mila", PASSWORD)
        assert response.status_code == 302 and response["Location"] == "/"
        assert client.get("/").status_code == 200

    def test_too_many_failures_lock_that_user_from_that_address(self) -> None:
        make_user(Role.MANAGER, "mila", password=PASSWORD)
        limit = settings.AXES_FAILURE_LIMIT
        for _ in range(limit - 1):
            response = login(Client(), "mila", "wrong-password")
            assert response.status_code == 200
            assert "Неверное имя пользователя или пароль" in response.content.decode()
        locked = login(Client(), "mila", "wrong-password")
        assert locked.status_code == 429
        # Even the right password is refused now, with a message that says why and what to do.
        client = Client()
        response = login(client, "mila", PASSWORD)
        page = response.content.decode()
        assert response.status_code == 429
        assert "Вход заблокирован" in page and "15 минут" in page
        assert client.get("/").status_code == 302  # not signed in
        # Lockout is per (user, address): nobody can lock the user out from elsewhere...
        other = Client()
        assert login(other, "mila", PASSWORD, ip="10.0.0.2").status_code == 302
        # ...and another user at the locked address is not affected.
        make_user(Role.ANALYST, "olga", password=PASSWORD)
        assert login(Client(), "olga", PASSWORD).status_code == 302

    def test_success_resets_the_failure_count(self) -> None:
        make_user(Role.MANAGER, "mila", password=PASSWORD)
        limit = settings.AXES_FAILURE_LIMIT
        for _ in range(limit - 1):
            login(Client(), "mila", "wrong-password")
        assert login(Client(), "mila", PASSWORD).status_code == 302
        for _ in range(limit - 1):
            assert login(Client(), "mila", "wrong-password").status_code == 200
        assert login(Client(), "mila", PASSWORD).status_code == 302


def _deploy_env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}}
    env.update(
        {
            "PRILAVOK_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "shop.example.com",
            "FIELD_ENCRYPTION_KEYS": f"k1:{Fernet.generate_key().decode()}",
            "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/prilavok",
        }
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_in_production() -> None:
    result = _check_deploy(_deploy_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_without_a_required_setting_fails_clearly(missing: str) -> None:
    result = _check_deploy(_deploy_env(**{missing: None}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} is required in production" in result.stderr


@pytest.mark.django_db
class TestErrorPages:
    def test_404_leaks_nothing(self) -> None:
        response = client_for(make_user(Role.ANALYST)).get("/no-such-page-123/")
        page = response.content.decode()
        assert response.status_code == 404
        assert "Страница не найдена" in page
        assert "Traceback" not in page and "urlpatterns" not in page.lower()

    @override_settings(ROOT_URLCONF="tests.foundation_urls", DEBUG=False)
    def test_500_leaks_nothing(self, caplog: pytest.LogCaptureFixture) -> None:
        client = client_for(make_user(Role.ADMIN))
        client.raise_request_exception = False
        response = client.get("/boom/")
        page = response.content.decode()
        assert response.status_code == 500
        assert "Ошибка сервера" in page and "Server error" in page
        assert BOOM_SECRET not in page and "RuntimeError" not in page and "Traceback" not in page

    def test_403_page_explains(self) -> None:
        response = client_for(make_user(Role.ANALYST)).get("/settings/")
        assert response.status_code == 403
        assert "Доступ запрещён" in response.content.decode()


@pytest.mark.django_db
def test_security_headers_and_cookie_flags() -> None:
    response = client_for(make_user(Role.ANALYST)).get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY


@pytest.mark.django_db
def test_health_is_public_json_and_minimal() -> None:
    response = Client().get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_logout_needs_post() -> None:
    client = client_for(make_user(Role.ANALYST))
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_error_reports_mask_secret_post_fields() -> None:
    from django.test import RequestFactory
    from django.views.debug import ExceptionReporter

    request = RequestFactory().post(
        "/admin/integrations/marketplaceaccount/add/",
        {"name": "Shop", "new_secret": BOOM_SECRET, "password": BOOM_SECRET},
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        report = ExceptionReporter(request, type(exc), exc, exc.__traceback__).get_traceback_text()
    assert BOOM_SECRET not in report
    assert "Shop" in report


def test_database_url_round_trips_through_settings_for_tcp_and_unix_sockets() -> None:
    from config.env import database_url
    from config.settings import _database_from_url

    tcp = {"USER": "postgres", "PASSWORD": "p@ss", "HOST": "127.0.0.1", "PORT": "5432", "NAME": "test_x"}
    socket = {"USER": "postgres", "PASSWORD": "", "HOST": "/tmp/pg sock", "PORT": "", "NAME": "test_postgres"}
    for db in (tcp, socket):
        parsed = _database_from_url(database_url(db))
        assert {k: parsed[k] for k in ("USER", "PASSWORD", "HOST", "NAME")} == {
            k: db[k] for k in ("USER", "PASSWORD", "HOST", "NAME")
        }
