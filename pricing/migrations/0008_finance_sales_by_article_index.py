"""An index for the card economics' finance averages (pricing.fees.finance_averages and the bulk
pricing.floors._finance): the sale operations of one seller article of an account. Without it each
card's averages scanned the account's whole finance window through (account, -operation_at): about
300k rows per card at a large seller's scale, 100-300 ms a card.

Created here, by the app that reads it, as raw SQL on analytics' table (the model's state does not
list it); CONCURRENTLY, so a big finance table stays writable while it builds.
"""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("analytics", "0002_initial"),
        ("pricing", "0007_repricing_rules_and_runs"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS pricing_finance_sales_by_article "
            "ON analytics_financeoperation (account_id, offer_id, operation_at) "
            "WHERE quantity > 0 AND sale_amount > 0",
            "DROP INDEX CONCURRENTLY IF EXISTS pricing_finance_sales_by_article",
        ),
    ]
