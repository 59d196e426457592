"""Stock per size: StockLevel gains the size (variant_id, WB chrtId) in its unique key.

WB rows stored before were card totals of all sizes under variant_id ""; they are dropped, and the
next stocks sync stores each size apart (a total would otherwise stay beside the sizes forever)."""

from django.db import migrations, models


def drop_wildberries_card_totals(apps, schema_editor):  # type: ignore[no-untyped-def]
    StockLevel = apps.get_model("catalog", "StockLevel")
    StockLevel.objects.filter(listing__account__marketplace="wildberries", variant_id="").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0005_listing_missing_since"),
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="stocklevel",
            name="uniq_stock_level",
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="variant_id",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.UniqueConstraint(
                fields=("listing", "warehouse", "variant_id"), name="uniq_stock_level_variant"
            ),
        ),
        migrations.RunPython(drop_wildberries_card_totals, migrations.RunPython.noop),
    ]
