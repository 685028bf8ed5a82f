from django.apps import AppConfig


class ByokConfig(AppConfig):
    name = "byok"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from byok.models import ImageModel, Provider
        from byok.selectors import image_models_forget

        # The generation path keeps catalogue rows per process (byok.selectors): any change
        # made through the ORM's save/delete is seen at once in this process.
        for sender in (ImageModel, Provider):
            post_save.connect(image_models_forget, sender=sender, dispatch_uid=f"forget-{sender}")
            post_delete.connect(
                image_models_forget, sender=sender, dispatch_uid=f"forget-del-{sender}"
            )
