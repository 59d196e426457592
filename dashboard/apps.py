from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The overview page: counts across the domain apps, so it lives above them (core stays a leaf)."""

    name = "dashboard"
    verbose_name = _("Overview")
