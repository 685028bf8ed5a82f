"""dj-stripe registers ~40 models in the admin. Operators need three of them for support:
who is a customer, their subscriptions, and the events Stripe sent. The rest stay in the
database (dj-stripe syncs them) but out of the admin's way; the Stripe Dashboard is the place
for invoices, payment methods and the like."""

from django.apps import apps
from django.contrib import admin

STRIPE_MODELS_SHOWN = {"Customer", "Subscription", "Event"}

for model in apps.get_app_config("djstripe").get_models():
    if model.__name__ not in STRIPE_MODELS_SHOWN and admin.site.is_registered(model):
        admin.site.unregister(model)
