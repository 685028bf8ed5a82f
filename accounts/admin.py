from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Max, OuterRef, Subquery
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import SecurityEvent, User
from accounts.services import (
    COMPLIMENTARY_MAX_MONTHS,
    account_delete,
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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-created_at"]
    list_display = [
        "email",
        "plan",
        "subscription_status",
        "usage_count",
        "keys_count",
        "last_generation",
        "is_active",
        "is_staff",
        "created_at",
    ]
    actions = ["give_complimentary_premium", "end_complimentary_premium"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email"]
    # Given and ended through the actions, so that every change is in the security log.
    readonly_fields = ["created_at", "last_login", "updated_at", "complimentary_premium_until"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Usage"), {"fields": ["usage_count", "reset_date"]}),
        (_("Plan"), {"fields": ["complimentary_premium_until"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]

    # Deleting a user here is the same as the user deleting their account: account_delete
    # removes their keys, generations and image files and cancels their Stripe subscription.
    # Django's own delete would skip all of that (files are not rows, Stripe is not asked).
    def delete_model(self, request, obj: User) -> None:
        account_delete(user=obj, request=request, by_operator=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            account_delete(user=user, request=request, by_operator=request.user)

    def get_deleted_objects(self, objs, request):
        # What the confirmation page lists stays Django's. The operator needs the permission
        # to delete users, not one per row the account owns: the audit log's read-only API
        # usage would otherwise refuse every deletion.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def get_queryset(self, request):
        # Plan, subscription status, keys and last generation for the whole page in the same
        # query (no N+1).
        from generations.models import ImageGeneration

        last_generation = (
            ImageGeneration.objects.filter(user=OuterRef("pk"))
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        return with_plan_annotations(super().get_queryset(request)).annotate(
            keys_total=Count("api_configurations", distinct=True),
            last_generation_at=Subquery(last_generation),
        )

    @admin.display(description=_("plan"))
    def plan(self, obj: User) -> str:
        name = str(plan_for(obj).name)
        if complimentary_premium_active(obj):
            until = date_format(timezone.localtime(obj.complimentary_premium_until), "DATE_FORMAT")
            return _("%(plan)s (complimentary until %(date)s)") % {"plan": name, "date": until}
        return name

    @admin.display(description=_("keys"), ordering="keys_total")
    def keys_count(self, obj: User) -> int:
        return getattr(obj, "keys_total", None) or obj.api_configurations.count()

    @admin.display(description=_("last generation"), ordering="last_generation_at")
    def last_generation(self, obj: User):
        if hasattr(obj, "last_generation_at"):
            return obj.last_generation_at or "-"
        value = obj.generations.aggregate(last=Max("created_at"))["last"]
        return value or "-"

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

    @admin.display(description=_("subscription"))
    def subscription_status(self, obj: User) -> str:
        return subscription_status_for(obj) or "-"


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "user", "ip", "detail"]
    list_filter = ["kind"]
    search_fields = ["user__email", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
