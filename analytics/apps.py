from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # Register the admin pages of the roll-ups, the reconciliation's tables and the ad statistics.
        from analytics import ads_admin, reconciliation_admin, rollup_admin  # noqa: F401
