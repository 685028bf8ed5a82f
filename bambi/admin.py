"""The admin's frame: branded for Bambi's operators, without the models Bambi does not use,
and the users list with what support asks first (how many keys, when they last generated),
which needs the byok and generations apps: so it is assembled here, above them all."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Count, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from billing.admin import UserWithPlanAdmin
from generations.models import ImageGeneration

admin.site.site_header = "Bambi AI"
admin.site.site_title = _("Bambi AI administration")
admin.site.index_title = _("Operations")

# OAuth apps come from the environment (settings.SOCIALACCOUNT_PROVIDERS) and tokens are not
# stored; permissions are per user (staff, superuser), not per group.
for model in (SocialApp, SocialToken, Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class OperatorUserAdmin(UserWithPlanAdmin):
    list_display = [*UserWithPlanAdmin.list_display]
    list_display.insert(list_display.index("usage_count") + 1, "keys_count")
    list_display.insert(list_display.index("keys_count") + 1, "last_generation")

    def get_queryset(self, request):
        # Keys and last generation for the whole page in the same query (no N+1).
        last = (
            ImageGeneration.objects.filter(user=OuterRef("pk"))
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                keys_total=Count("api_configurations", distinct=True),
                last_generation_at=Subquery(last),
            )
        )

    @admin.display(description=_("keys"), ordering="keys_total")
    def keys_count(self, obj: User) -> int:
        return obj.keys_total

    @admin.display(description=_("last generation"), ordering="last_generation_at")
    def last_generation(self, obj: User):
        return obj.last_generation_at or "-"


admin.site.unregister(User)
admin.site.register(User, OperatorUserAdmin)
