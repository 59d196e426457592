"""What the marketplaces actually paid: finance operations and their fee lines."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.money import RUB


class FinanceOperation(models.Model):
    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="finance_operations",
        db_index=False,  # the composite key/index below leads with it
    )
    external_id = models.CharField(max_length=100, help_text="Ozon operation_id, WB rrdId, YM operation id.")
    operation_type = models.CharField(max_length=200)
    operation_at = models.DateTimeField()
    order_external_id = models.CharField(max_length=100, blank=True, help_text="As the report names it (WB: srid).")
    # The order, found by external id or (WB) srid; set when it is stored, whichever stream ran first.
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="finance_operations",
        db_index=False,  # the partial index below serves the lookups; order deletions are rare
    )
    offer_id = models.CharField(max_length=255, blank=True)
    quantity = models.IntegerField(default=0)
    sale_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0, help_text="Accrued for the sale.")
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Net paid to the seller (+) or charged.")
    currency = models.CharField(max_length=3, default=RUB)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("finance operation")
        verbose_name_plural = _("finance operations")
        ordering = ["-operation_at"]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="uniq_finance_operation")]
        indexes = [
            models.Index(fields=["account", "-operation_at"]),
            models.Index(fields=["order_external_id"]),
            # The admin's search by the marketplace's operation id (the unique key leads with the account).
            models.Index(fields=["external_id"], name="finance_operation_external_id"),
            models.Index(fields=["order"], condition=models.Q(order__isnull=False), name="finance_op_order"),
            # Operations stored before their order, to link on its arrival.
            models.Index(
                fields=["account", "order_external_id"], condition=models.Q(order__isnull=True),
                name="finance_op_awaiting_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_type} {self.external_id}: {self.amount} {self.currency}"


class FeeLine(models.Model):
    class Kind(models.TextChoices):
        COMMISSION = "commission", "Commission"
        LOGISTICS = "logistics", "Logistics"
        STORAGE = "storage", "Storage"
        ACQUIRING = "acquiring", "Acquiring"
        ADVERTISING = "advertising", "Advertising"
        PENALTY = "penalty", "Penalty"
        OTHER = "other", "Other"

    operation = models.ForeignKey(FinanceOperation, on_delete=models.CASCADE, related_name="fees", db_index=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="The marketplace's own name of the fee.")
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("fee line")
        verbose_name_plural = _("fee lines")
        constraints = [models.UniqueConstraint(fields=["operation", "kind", "name"], name="uniq_fee_line")]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount}"


class SalesDaily(models.Model):
    """Sales and returns of one seller article of one account on one day (Europe/Moscow), kept by
    analytics.rollup in the same transaction as the order and return upserts.

    Keyed by the seller article (offer_id), not the listing: lines synced before their listing
    count here from the start, and `listing` is filled when it arrives. Orders count placed orders
    that are sales (not cancelled, not returned undelivered); returns count Return rows by their day.
    """

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    day = models.DateField()
    offer_id = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, default=RUB)
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
    )
    orders = models.IntegerField(default=0, help_text="Orders with this article placed that day, still sales.")
    cancelled = models.IntegerField(default=0, help_text="Orders placed that day, since cancelled or not bought.")
    units = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    returns = models.IntegerField(default=0)
    return_units = models.IntegerField(default=0)
    return_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name_plural = "sales daily"
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "offer_id", "currency"], name="uniq_sales_daily"),
        ]
        # Few indexes: the ingests write these rows with every page of orders.
        indexes = [
            # Rows whose article has no listing yet, to link on its arrival (see analytics.rollup).
            models.Index(
                fields=["account", "offer_id"], condition=models.Q(listing__isnull=True),
                name="sales_daily_awaiting_listing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.offer_id}: {self.orders} / {self.revenue} {self.currency}"


class SalesDayTotal(models.Model):
    """The same figures per account and day, orders counted once however many articles they hold:
    what the sales page and the overview read (a few hundred rows for 90 days)."""

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    day = models.DateField()
    currency = models.CharField(max_length=3, default=RUB)
    orders = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    units = models.IntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    returns = models.IntegerField(default=0)
    return_units = models.IntegerField(default=0)
    return_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["account", "day", "currency"], name="uniq_sales_day_total")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.day} account {self.account_id}: {self.orders} / {self.revenue} {self.currency}"


class FinanceDaily(models.Model):
    """What the finance reports accrued, charged and paid for one seller article of one account on one
    day (Europe/Moscow, by the operation's time), kept by analytics.finance_rollup in the same
    transaction as the finance ingest's upserts. Fees are signed as the reports sign them (a charge
    is negative); sale + every fee = payout. Account-level charges (storage, advertising without an
    article) are kept under the empty article."""

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    day = models.DateField()
    offer_id = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, default=RUB)
    operations = models.IntegerField(default=0)
    quantity = models.IntegerField(default=0)
    sale_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    payout = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    commission = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    logistics = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    storage = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    acquiring = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    advertising = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    penalty = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    other = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name_plural = "finance daily"
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "offer_id", "currency"], name="uniq_finance_daily"),
        ]
        # No other index: the ingest writes these rows with every page; the reports read them by
        # the unique key (account_id = ANY(every account) AND day range).

    def __str__(self) -> str:
        return f"{self.day} {self.offer_id}: {self.payout} {self.currency}"


class ReportJob(models.Model):
    """A report over a long period, built by a background task (analytics.jobs) and kept for download."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, help_text="profit or abc")
    fmt = models.CharField(max_length=4, help_text="xlsx or csv")
    params = models.JSONField(default=dict, help_text="The report's query string, as a dict.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    filename = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="report_job_user")]

    def __str__(self) -> str:
        return f"{self.kind}.{self.fmt} {self.status} {self.progress}%"


class Discrepancy(models.Model):
    """One difference between what our orders predict and what a marketplace's finance reports accrued,
    charged or paid, found by analytics.reconciliation (recomputed by its refresh, never edited): the
    list a seller takes to the marketplace's support. Amounts are signed as the reports sign them (a
    charge is negative); `difference` = expected − actual, what the marketplace owes by our reckoning."""

    class Kind(models.TextChoices):
        NO_PAYOUT = "no_payout", _("No payout for a delivered order")
        UNDERPAID = "underpaid", _("Accrued below the order's price")
        COMMISSION_HIGH = "commission_high", _("Commission above the tariff")
        RETURN_UNRECORDED = "return_unrecorded", _("Return charged, no return recorded")
        UNEXPECTED_CHARGE = "unexpected_charge", _("Deduction without an order or sale")
        UNKNOWN_ORDER = "unknown_order", _("Operation for an order we do not have")

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    day = models.DateField(help_text="The order's day (Moscow), or the operation's for one without our order.")
    occurred_at = models.DateTimeField()
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
    )
    order_external_id = models.CharField(max_length=100, blank=True, help_text="As the marketplace names the order.")
    expected = models.DecimalField(max_digits=14, decimal_places=2)
    actual = models.DecimalField(max_digits=14, decimal_places=2)
    difference = models.DecimalField(max_digits=14, decimal_places=2, help_text="expected − actual")
    rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True,
                               help_text="The tariff's commission, % (commission above the tariff).")
    currency = models.CharField(max_length=3, default=RUB)
    operation_ids = ArrayField(models.CharField(max_length=100), default=list, blank=True,
                               help_text="The marketplace's ids of the operations concerned.")
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        # The list's sorts (analytics.reconciliation.DISCREPANCY_SORTS) and its common filters, each
        # ending in its sort; the refresh deletes an account's days by the second.
        indexes = [
            models.Index(fields=["day", "id"], name="discrepancy_day"),
            models.Index(fields=["account", "day", "id"], name="discrepancy_account_day"),
            models.Index(fields=["kind", "day", "id"], name="discrepancy_kind_day"),
            models.Index(fields=["difference", "id"], name="discrepancy_difference"),
            models.Index(fields=["kind", "difference", "id"], name="discrepancy_kind_difference"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_external_id}: {self.difference} {self.currency}"


class ReconciliationDaily(models.Model):
    """Per account, day (Moscow) and currency: our delivered orders of the day at the seller's price less
    returns (predicted) against what the finance reports accrued, charged and paid for the orders of
    the day, plus the operations of the day without one of our orders. Written by the refresh."""

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    day = models.DateField()
    currency = models.CharField(max_length=3, default=RUB)
    orders = models.IntegerField(default=0, help_text="Delivered orders.")
    predicted = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    accrued = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    paid = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    commission = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    logistics = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    storage = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    acquiring = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    advertising = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    penalty = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    other = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        verbose_name_plural = "reconciliation daily"
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "currency"], name="uniq_reconciliation_daily"),
        ]

    def __str__(self) -> str:
        return f"{self.day} account {self.account_id}: {self.predicted} / {self.accrued} {self.currency}"


class DiscrepancyDaily(models.Model):
    """How many discrepancies of a kind an account has on a day, and their sum: the page's counts."""

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=Discrepancy.Kind.choices)
    currency = models.CharField(max_length=3, default=RUB)
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0, help_text="Σ difference")

    class Meta:
        verbose_name_plural = "discrepancies daily"
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "kind", "currency"], name="uniq_discrepancy_daily"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.count}"


class ReconciliationRun(models.Model):
    """One recomputation of an account's reconciliation (beat after the finance sync, or asked for)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    since = models.DateField(help_text="The first day recomputed.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    discrepancies = models.IntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"], name="reconciliation_run_account")]

    def __str__(self) -> str:
        return f"account {self.account_id} from {self.since}: {self.status}"
class ReportInputChange(models.Model):
    """A change of what the profit and ABC reports read (the two daily roll-ups, the cards, the products):
    database triggers insert a row for every statement that changes rows of them, whatever wrote it (the
    syncs, an edit, the admin, a rebuild). The sum of `weight` only grows, and a writer's row becomes
    visible with its data, so a report computed after reading the sum S is current while the sum is still
    S (analytics.report_cache). Inserts never wait on each other; report_cache.warm folds the rows into one."""

    weight = models.BigIntegerField(default=1)

    class Meta:
        verbose_name = _("report input change")
        verbose_name_plural = _("report input changes")

    def __str__(self) -> str:
        return f"{self.pk}: {self.weight}"


class ReportSnapshot(models.Model):
    """A computed profit or ABC report of one period and filter, kept while its inputs are unchanged:
    the pages read a page of its rows instead of aggregating the roll-ups (analytics.report_cache)."""

    kind = models.CharField(max_length=10, help_text="profit or abc")
    start = models.DateField()
    end = models.DateField()
    option = models.CharField(max_length=20, help_text="The profit's dimension or the ABC's measure.")
    marketplace = models.CharField(max_length=20, blank=True)
    currency = models.CharField(max_length=3, default=RUB)
    fingerprint = models.CharField(max_length=200, help_text="The inputs' version it was computed from.")
    rows = models.IntegerField(default=0)
    summary = models.JSONField(default=dict, help_text="Totals, the chart or the matrix.")
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0, help_text="How long the computation took.")

    class Meta:
        verbose_name = _("report snapshot")
        verbose_name_plural = _("report snapshots")
        constraints = [
            models.UniqueConstraint(fields=["kind", "start", "end", "option", "marketplace", "currency"],
                                    name="uniq_report_snapshot"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.option} {self.start}–{self.end} {self.marketplace}"


class ReportSnapshotRow(models.Model):
    """One row of a snapshot, in the report's order (`position`): a profit group with its figures, or
    an ABC item with its measure, class and variation. `values` as analytics.report_cache lays them out."""

    snapshot = models.ForeignKey(ReportSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.IntegerField()
    cell = models.CharField(max_length=2, blank=True)
    key = models.CharField(max_length=300)
    label = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)
    values = ArrayField(models.DecimalField(max_digits=20, decimal_places=2, null=True))

    class Meta:
        verbose_name = _("report snapshot row")
        verbose_name_plural = _("report snapshot rows")
        indexes = [
            models.Index(fields=["snapshot", "position", "id"], name="report_row_position"),
            models.Index(fields=["snapshot", "cell", "position", "id"], name="report_row_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.label}"


class AdSpendDaily(models.Model):
    """What one advertising campaign spent on one card of an account on one day (Europe/Moscow), with
    its views, clicks and the orders it brought, from the marketplace's ad statistics (WB promotion,
    Ozon Performance), upserted by the `ads` sync stream (analytics.ads): a re-read of the same days
    changes nothing. `item_ref` is the card as the statistics name it (WB nmID, Ozon sku), `offer_id`
    the seller article of the account's card with that marketplace sku ('' until the card is known)."""

    account = models.ForeignKey(
        "integrations.MarketplaceAccount", on_delete=models.CASCADE, related_name="+", db_index=False,
    )
    day = models.DateField()
    campaign_id = models.CharField(max_length=40)
    item_ref = models.CharField(max_length=100)
    offer_id = models.CharField(max_length=255, blank=True)
    listing = models.ForeignKey(
        "catalog.Listing", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
    )
    campaign_name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, default=RUB)
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    views = models.IntegerField(default=0)
    clicks = models.IntegerField(default=0)
    orders = models.IntegerField(default=0)
    ordered_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("advertising spend per day")
        verbose_name_plural = _("advertising spend per day")
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "campaign_id", "item_ref"], name="uniq_ad_spend_daily"),
        ]
        # No other index: the reports read a period of every account through the unique key
        # (account_id = ANY(…) AND day range), as they read the other roll-ups.

    def __str__(self) -> str:
        return f"{self.day} {self.campaign_id}/{self.item_ref}: {self.spend} {self.currency}"
