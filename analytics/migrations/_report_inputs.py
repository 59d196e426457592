"""The statements that make a table one of the reports' inputs (0013, 0014): every INSERT, UPDATE, DELETE
or TRUNCATE of it adds a ReportInputChange row through the functions migration 0011 created. Not a
migration itself (the leading underscore keeps Django's loader away)."""

from __future__ import annotations


def watch(table: str) -> tuple[list[str], list[str]]:
    """(the CREATE TRIGGER statements, the DROP statements that undo them) for `table`."""
    create = [
        f"CREATE TRIGGER report_inputs_{event.lower()} AFTER {event} ON {table} REFERENCING {which} TABLE AS "
        f"changed_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics_report_inputs_changed()"
        for event, which in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    ] + [
        f"CREATE TRIGGER report_inputs_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION analytics_report_inputs_truncated()"
    ]
    drop = [f"DROP TRIGGER IF EXISTS report_inputs_{event} ON {table}" for event in ("insert", "update", "delete",
                                                                                     "truncate")]
    return create, drop
