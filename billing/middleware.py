"""Middleware of the billing app."""

from __future__ import annotations

from django.conf import settings

# request.META's name for dj-stripe's `X-Djstripe-Webhook-Secret` header.
TEST_SECRET_HEADER = "HTTP_X_DJSTRIPE_WEBHOOK_SECRET"


class StripeWebhookTestHeaderGuard:
    """Drops dj-stripe's `X-Djstripe-Webhook-Secret` header unless STRIPE_WEBHOOK_TEST_HEADER.

    With DEBUG on, dj-stripe verifies a webhook against the secret *named in that header*
    instead of the endpoint's own (a shortcut for `stripe listen`). Anyone who can reach the
    webhook URL then signs any event they like with a secret of their choosing: "Premium for
    free" on a debug deployment. Removing the header before any view sees it keeps the real
    signing secret in force; an operator who wants the shortcut for local testing sets
    STRIPE_WEBHOOK_TEST_HEADER=1 (and it still needs DEBUG on, dj-stripe's own rule).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not getattr(settings, "STRIPE_WEBHOOK_TEST_HEADER", False):
            request.META.pop(TEST_SECRET_HEADER, None)
        return self.get_response(request)
