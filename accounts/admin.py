from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import SecurityEvent, User
from accounts.services import account_delete


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users, deleted the way the account page deletes them. The plan columns and the
    complimentary Premium actions are added by billing/admin.py (the plan is billing's, and
    accounts imports no app above it), keys and last generation by bambi/admin.py."""

    ordering = ["-created_at"]
    list_display = [
        "email",
        "usage_count",
        "reset_date",
        "is_active",
        "is_staff",
        "created_at",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email"]
    # Complimentary Premium is given and ended through billing's admin actions, so that every
    # change is in the security log; here it is only shown.
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
