from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        from analytics import rollup_admin  # noqa: F401 - registers the roll-up's admin pages
