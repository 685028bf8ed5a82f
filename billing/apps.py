from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_webhook_endpoint(sender, using="default", **kwargs) -> None:
    """After every `migrate` (each deploy), make STRIPE_WEBHOOK_SECRET reach dj-stripe's
    WebhookEndpoint row, so no operator has to paste the secret into the admin."""
    from django.conf import settings

    from billing.services import webhook_endpoint_sync

    if settings.STRIPE_WEBHOOK_SECRET and using == "default":
        webhook_endpoint_sync()


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import stripe
        from django.conf import settings

        from accounts.services import ACCOUNT_DELETION_HOOKS
        from bambi.http import stripe_http_client
        from billing import webhooks  # noqa: F401  (connects the Stripe event handlers)
        from billing.services import subscriptions_cancel_for_deleted_account

        # A deleted account must not keep paying for Premium.
        if subscriptions_cancel_for_deleted_account not in ACCOUNT_DELETION_HOOKS:
            ACCOUNT_DELETION_HOOKS.append(subscriptions_cancel_for_deleted_account)

        # Otherwise the library writes telemetry files under ~/.config/stripe.
        stripe.enable_telemetry = False
        # Bounded calls: Stripe down is a 502 in seconds, not minutes (settings, "Stripe").
        stripe.default_http_client = stripe_http_client()
        stripe.max_network_retries = settings.STRIPE_MAX_NETWORK_RETRIES
        # Sent per app that has models; billing has none, so listen to dj-stripe's (its
        # tables exist by then).
        post_migrate.connect(
            _sync_webhook_endpoint,
            sender=apps.get_app_config("djstripe"),
            dispatch_uid="billing.sync_webhook_endpoint",
        )
