# The reports read the per-day totals too (the advertising report's ДРР per account, the profit chart): a
# statement that changes analytics_salesdaytotal adds a ReportInputChange row, as the roll-ups' triggers do
# (0011). An order without lines changes that table alone.

from django.db import migrations

from analytics.migrations._report_inputs import watch

TRIGGERS, DROP = watch("analytics_salesdaytotal")


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0013_ad_spend_report_inputs"),
    ]

    operations = [
        migrations.RunSQL(TRIGGERS, DROP),
    ]
