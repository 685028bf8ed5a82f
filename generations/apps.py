from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.services import ACCOUNT_DELETION_HOOKS
        from generations import signals  # noqa: F401  (cached counts forgotten on create)
        from generations.deletion import user_files_delete

        # Image files are not rows: the cascade that deletes the user's rows cannot remove them.
        if user_files_delete not in ACCOUNT_DELETION_HOOKS:
            ACCOUNT_DELETION_HOOKS.append(user_files_delete)
