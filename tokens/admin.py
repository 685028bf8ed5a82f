"""Admin of personal API tokens: operators see them (never a secret: Bambi has none, only a
hash, which is not shown either) and revoke them. Nobody adds or edits a token here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tokens.models import ApiToken
from tokens.services import api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "prefix",
        "token_status",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["user__email", "name", "prefix"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "name",
        "prefix",
        "allowed_models",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("status"))
    def token_status(self, obj: ApiToken) -> str:
        return {"active": _("active"), "expired": _("expired"), "revoked": _("revoked")}[obj.status]

    @admin.action(description=_("Revoke the selected API tokens"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            api_token_revoke(token=token, request=request, by_operator=request.user)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d API token revoked.", "%(count)d API tokens revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A token is revoked, not deleted: the audit log and the generations it made keep
        # pointing at it.
        return False
