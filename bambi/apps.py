from django.apps import AppConfig


class BambiConfig(AppConfig):
    """The project package as an app, so its configuration checks are registered."""

    name = "bambi"
    verbose_name = "Bambi"

    def ready(self) -> None:
        from bambi import checks  # noqa: F401  (registers the system checks)
