from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Registers the tasks in every process (web included): notifications.services sends the
        # emails' task by its name without importing it.
        from notifications import tasks  # noqa: F401
