"""Billing in the admin: each user's plan and subscription status, complimentary Premium
given and ended by operators, and the three dj-stripe lists operators need.

The user admin itself lives in accounts/admin.py; billing, which owns the plan, extends it here
(accounts sits below billing and imports nothing from it).
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import UserAdmin
from accounts.models import User
from accounts.services import (
    COMPLIMENTARY_MAX_MONTHS,
    complimentary_premium_end,
    complimentary_premium_grant,
)
from billing.plans import (
    complimentary_premium_active,
    plan_for,
    subscription_status_for,
    with_plan_annotations,
)


class ComplimentaryPremiumForm(forms.Form):
    """The operator's choice on the action's page: how many months, and why."""

    months = forms.IntegerField(
        label=_("Months"), min_value=1, max_value=COMPLIMENTARY_MAX_MONTHS, initial=3
    )
    reason = forms.CharField(
        label=_("Reason (kept in the security log)"), required=False, max_length=500
    )


class UserWithPlanAdmin(UserAdmin):
    list_display = [
        *UserAdmin.list_display[:1],
        "plan",
        "subscription_status",
        *UserAdmin.list_display[1:],
    ]
    actions = ["give_complimentary_premium", "end_complimentary_premium"]

    def get_queryset(self, request):
        # Plan and subscription status for the whole page in the same query (no N+1).
        return with_plan_annotations(super().get_queryset(request))

    @admin.display(description=_("plan"))
    def plan(self, obj: User) -> str:
        name = str(plan_for(obj).name)
        if complimentary_premium_active(obj):
            until = date_format(timezone.localtime(obj.complimentary_premium_until), "DATE_FORMAT")
            return _("%(plan)s (complimentary until %(date)s)") % {"plan": name, "date": until}
        return name

    @admin.display(description=_("subscription"))
    def subscription_status(self, obj: User) -> str:
        return subscription_status_for(obj) or "-"

    @admin.action(description=_("Give complimentary Premium for some months"))
    def give_complimentary_premium(self, request, queryset):
        """An intermediate page asks for the number of months (and a reason), then gives
        each selected user Premium until then; each gift goes to the security log."""
        form = ComplimentaryPremiumForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for user in queryset:
                until = complimentary_premium_grant(
                    user=user,
                    months=form.cleaned_data["months"],
                    reason=form.cleaned_data["reason"],
                    by_operator=request.user,
                    request=request,
                )
            count = queryset.count()
            self.message_user(
                request,
                ngettext(
                    "%(count)d user has complimentary Premium until %(date)s.",
                    "%(count)d users have complimentary Premium (until %(date)s for the last).",
                    count,
                )
                % {"count": count, "date": date_format(timezone.localtime(until), "DATE_FORMAT")},
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/accounts/user/complimentary_premium.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Give complimentary Premium"),
                "opts": self.model._meta,
                "users": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("End complimentary Premium now"))
    def end_complimentary_premium(self, request, queryset):
        ended = sum(
            complimentary_premium_end(user=user, by_operator=request.user, request=request)
            for user in queryset
        )
        self.message_user(
            request,
            ngettext(
                "Complimentary Premium ended for %(count)d user.",
                "Complimentary Premium ended for %(count)d users.",
                ended,
            )
            % {"count": ended},
            messages.SUCCESS if ended else messages.WARNING,
        )


admin.site.unregister(User)
admin.site.register(User, UserWithPlanAdmin)


# dj-stripe registers ~40 models in the admin. Operators need three of them for support: who
# is a customer, their subscriptions, and the events Stripe sent. The rest stay in the
# database (dj-stripe syncs them) but out of the admin's way; the Stripe Dashboard is the
# place for invoices, payment methods and the like.
STRIPE_MODELS_SHOWN = {"Customer", "Subscription", "Event"}

for model in apps.get_app_config("djstripe").get_models():
    if model.__name__ not in STRIPE_MODELS_SHOWN and admin.site.is_registered(model):
        admin.site.unregister(model)
