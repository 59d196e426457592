# The reports read the ad statistics too (analytics.profit's ad spend): a statement that changes
# analytics_adspenddaily adds a ReportInputChange row, as the roll-ups' triggers do (0011).

from django.db import migrations

from analytics.migrations._report_inputs import watch

TRIGGERS, DROP = watch("analytics_adspenddaily")


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0012_ad_spend_daily"),
    ]

    operations = [
        migrations.RunSQL(TRIGGERS, DROP),
    ]
