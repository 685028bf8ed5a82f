"""The admin's frame: branded for Bambi's operators, without the models Bambi does not use,
and the users list with what support asks first (how many keys, when they last generated),
which needs the byok and generations apps: so it is assembled here, above them all."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from bambi.templatetags.bambi_format import usd
from billing.admin import UserWithPlanAdmin
from byok.admin import ProviderAdmin
from byok.models import Provider
from generations.models import ApiUsage, ImageGeneration

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
    list_display.insert(list_display.index("last_generation") + 1, "spent_this_period")

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
                # What the user's keys spent in their running usage period: the usage rows
                # carry the period they were charged to (`period_end` = the user's reset_date).
                spent_in_period=_total(
                    ApiUsage.objects.filter(user=OuterRef("pk"), period_end=OuterRef("reset_date")),
                    "user",
                ),
            )
        )

    @admin.display(description=_("spent this period"), ordering="spent_in_period")
    def spent_this_period(self, obj: User) -> str:
        return usd(obj.spent_in_period or 0)

    @admin.display(description=_("keys"), ordering="keys_total")
    def keys_count(self, obj: User) -> int:
        return obj.keys_total

    @admin.display(description=_("last generation"), ordering="last_generation_at")
    def last_generation(self, obj: User):
        return obj.last_generation_at or "-"


admin.site.unregister(User)
admin.site.register(User, OperatorUserAdmin)


def _total(usage, group: str) -> Subquery:
    """The sum of the costs of `usage` rows (a subquery correlated on `group`)."""
    return Subquery(
        usage.order_by().values(group).annotate(total=Sum("cost_estimate")).values("total")[:1],
        output_field=DecimalField(max_digits=14, decimal_places=4),
    )


class OperatorProviderAdmin(ProviderAdmin):
    """Providers with what every user's keys spent with each this calendar month (UTC), the
    whole list in one query."""

    list_display = [*ProviderAdmin.list_display, "generations_this_month", "spent_this_month"]

    def get_queryset(self, request):
        month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        this_month = ApiUsage.objects.filter(provider=OuterRef("pk"), created_at__gte=month_start)
        return (
            super()
            .get_queryset(request)
            .annotate(
                models_total=Count("models", distinct=True),
                spent_in_month=_total(this_month, "provider"),
                generations_in_month=Subquery(
                    this_month.order_by()
                    .values("provider")
                    .annotate(total=Count("id"))
                    .values("total")[:1],
                    output_field=IntegerField(),
                ),
            )
        )

    @admin.display(description=_("models"), ordering="models_total")
    def model_count(self, obj: Provider) -> int:
        return obj.models_total

    @admin.display(description=_("generations this month"), ordering="generations_in_month")
    def generations_this_month(self, obj: Provider) -> int:
        return obj.generations_in_month or 0

    @admin.display(description=_("spent this month"), ordering="spent_in_month")
    def spent_this_month(self, obj: Provider) -> str:
        return usd(obj.spent_in_month or 0)


admin.site.unregister(Provider)
admin.site.register(Provider, OperatorProviderAdmin)
