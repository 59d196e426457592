"""Reading settings from the environment, with typed helpers and fail-fast for production."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PRILAVOK_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"Environment variable {name} is required in production.")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def database_url(db: dict[str, object]) -> str:
    """DATABASES["default"] back to a DATABASE_URL, for child processes (Celery workers in tests).

    A unix-socket host (the embedded PostgreSQL) travels in the `host` query parameter.
    """
    from urllib.parse import quote

    user = quote(str(db.get("USER") or "postgres"))
    password = str(db.get("PASSWORD") or "")
    auth = f"{user}:{quote(password)}@" if password else f"{user}@"
    host = str(db.get("HOST") or "127.0.0.1")
    name = quote(str(db["NAME"]))
    if host.startswith("/"):
        return f"postgres://{auth}/{name}?host={quote(host, safe='')}"
    return f"postgres://{auth}{host}:{db.get('PORT') or 5432}/{name}"
