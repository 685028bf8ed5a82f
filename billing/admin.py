"""The admin's user list with each user's plan and subscription status.

The user admin itself lives in accounts/admin.py; billing, which owns the plan, extends it here
(accounts sits below billing and imports nothing from it).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import UserAdmin
from accounts.models import User
from billing.plans import plan_for, subscription_status_for, with_plan_annotations


class UserWithPlanAdmin(UserAdmin):
    list_display = [
        *UserAdmin.list_display[:1],
        "plan",
        "subscription_status",
        *UserAdmin.list_display[1:],
    ]

    def get_queryset(self, request):
        # Plan and subscription status for the whole page in the same query (no N+1).
        return with_plan_annotations(super().get_queryset(request))

    @admin.display(description=_("plan"))
    def plan(self, obj: User) -> str:
        return str(plan_for(obj).name)

    @admin.display(description=_("subscription"))
    def subscription_status(self, obj: User) -> str:
        return subscription_status_for(obj) or "-"


admin.site.unregister(User)
admin.site.register(User, UserWithPlanAdmin)
