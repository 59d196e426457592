# The reports read the per-day totals too (the advertising report's ДРР per account, the profit chart): a
# statement that changes analytics_salesdaytotal adds a ReportInputChange row, as the roll-ups' triggers do
# (0011). An order without lines changes that table alone.

from django.db import migrations

TABLE = "analytics_salesdaytotal"
TRIGGERS = [
    f"CREATE TRIGGER report_inputs_{event.lower()} AFTER {event} ON {TABLE} REFERENCING {which} TABLE AS changed_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION analytics_report_inputs_changed()"
    for event, which in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
] + [
    f"CREATE TRIGGER report_inputs_truncate AFTER TRUNCATE ON {TABLE} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION analytics_report_inputs_truncated()"
]
DROP = [f"DROP TRIGGER IF EXISTS report_inputs_{event} ON {TABLE}" for event in ("insert", "update", "delete", "truncate")]


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0013_ad_spend_report_inputs"),
    ]

    operations = [
        migrations.RunSQL(TRIGGERS, DROP),
    ]
