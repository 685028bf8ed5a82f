"""Admin of the byok app: operators edit the catalogue and see users' configurations.

A configuration's key is never shown, not even as ciphertext: its field is left out of every
list, form and read-only display, and operators cannot add or edit configurations.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

import requests
from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bambi import http
from byok import services
from byok.models import ApiConfiguration, ImageModel, Provider

_LIST_KEYS = (
    "sizes",
    "aspect_ratios",
    "qualities",
    "styles",
    "resolutions",
    "output_formats",
    "backgrounds",
    "moderations",
    "input_fidelities",
    "person_generations",
)
_INT_KEYS = ("max_images", "max_prompt_length")
_BOOL_KEYS = ("mask", "output_compression")
_PRICE_KEYS = ("price_per_image", "price_per_input_image", "token_prices")


def _is_iso_date(value) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and len(value) == 10


def _check_price(value) -> bool:
    try:
        return Decimal(str(value)) >= 0 and isinstance(value, str)
    except (InvalidOperation, ValueError):
        return False


class ImageModelForm(forms.ModelForm):
    """Catches the capability mistakes that would break validation or cost estimates."""

    class Meta:
        model = ImageModel
        fields = ["provider", "name", "model_id", "description", "capabilities", "is_active"]

    def clean_capabilities(self):
        caps = self.cleaned_data.get("capabilities")
        if caps in (None, ""):
            return {}
        if not isinstance(caps, dict):
            raise forms.ValidationError(_("Capabilities must be a JSON object."))
        problems = []
        for key in _LIST_KEYS:
            if key in caps and not (
                isinstance(caps[key], list) and all(isinstance(v, str) for v in caps[key])
            ):
                problems.append(_("“%(key)s” must be a list of strings.") % {"key": key})
        for key in _INT_KEYS:
            value = caps.get(key)
            if value is not None and not (
                isinstance(value, int) and not isinstance(value, bool) and value >= 1
            ):
                problems.append(_("“%(key)s” must be a whole number of at least 1.") % {"key": key})
        inputs = caps.get("max_input_images")
        if inputs is not None and not (
            isinstance(inputs, int) and not isinstance(inputs, bool) and inputs >= 0
        ):
            problems.append(_("“max_input_images” must be a whole number (0 = text only)."))
        for key in _BOOL_KEYS:
            if key in caps and not isinstance(caps[key], bool):
                problems.append(_("“%(key)s” must be true or false.") % {"key": key})
        for key in _PRICE_KEYS:
            price = caps.get(key)
            if price is None:
                continue
            prices = price.values() if isinstance(price, dict) else [price]
            if (key == "token_prices" and not isinstance(price, dict)) or not all(
                _check_price(p) for p in prices
            ):
                problems.append(
                    _(
                        '“%(key)s” must be a price in USD as a string (e.g. "0.04"), '
                        "or an object of such prices."
                    )
                    % {"key": key}
                )
        shutdown = caps.get("shutdown_date")
        if shutdown is not None and not _is_iso_date(shutdown):
            problems.append(_("“shutdown_date” must be a date written YYYY-MM-DD."))
        if "defaults" in caps and not isinstance(caps["defaults"], dict):
            problems.append(_("“defaults” must be a JSON object."))
        if problems:
            raise forms.ValidationError(problems)
        return caps


class ProviderForm(forms.ModelForm):
    """Refuses a base URL Bambi would refuse to call: a private-network address (SSRF), or a
    URL the adapters cannot build on."""

    class Meta:
        model = Provider
        fields = ["name", "slug", "description", "website_url", "api_base_url", "is_active"]

    def clean_api_base_url(self) -> str:
        url = (self.cleaned_data.get("api_base_url") or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise forms.ValidationError(_("Enter an http:// or https:// URL with a host name."))
        if parts.username or parts.password:
            raise forms.ValidationError(
                _("Leave credentials out of the URL: keys come from each user's configuration.")
            )
        if parts.query or parts.fragment:
            raise forms.ValidationError(
                _("Leave the query string out: Bambi adds each endpoint's path to this URL.")
            )
        try:
            http.vet_url(url)
        except http.PrivateAddressRefused as exc:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = f"[{exc.host}]" if ":" in exc.host else exc.host
            raise forms.ValidationError(
                _(
                    "This address is on a private network (%(address)s), so Bambi refuses to "
                    "call it. For a local stand-in, add %(pair)s to PROVIDER_PRIVATE_HOSTS."
                )
                % {"address": exc.address, "pair": f"{host}:{port}"}
            ) from None
        except requests.RequestException:
            # Not resolvable from here right now: every call checks the address again.
            pass
        return url


class ImageModelInline(admin.TabularInline):
    model = ImageModel
    form = ImageModelForm
    fields = ["name", "model_id", "is_active"]
    extra = 0
    show_change_link = True


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "slug", "api_base_url", "is_active", "model_count"]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "description",
        "website_url",
        "api_base_url",
        "is_active",
        "created_at",
        "updated_at",
    ]
    inlines = [ImageModelInline]

    @admin.display(description=_("models"))
    def model_count(self, obj: Provider) -> int:
        return obj.models.count()


@admin.register(ImageModel)
class ImageModelAdmin(admin.ModelAdmin):
    form = ImageModelForm
    list_display = ["name", "model_id", "provider", "is_active", "updated_at"]
    list_editable = ["is_active"]
    list_filter = ["provider", "is_active"]
    search_fields = ["name", "model_id"]
    list_select_related = ["provider"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(ApiConfiguration)
class ApiConfigurationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "provider",
        "key_hint",
        "is_valid",
        "last_validated_at",
        "last_used_at",
        "monthly_budget_usd",
        "budget_spent_usd",
        "created_at",
    ]
    list_filter = ["provider", "is_valid"]
    search_fields = ["name", "user__email", "key_hint"]
    list_select_related = ["user", "provider"]
    date_hierarchy = "created_at"
    # Everything an operator may see, explicitly: `api_key` is not in this list, so neither
    # the clear key nor its ciphertext is ever rendered.
    fields = [
        "user",
        "provider",
        "name",
        "key_hint",
        "is_valid",
        "last_validated_at",
        "last_used_at",
        "monthly_budget_usd",
        "budget_spent_usd",
        "budget_period_end",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        # A key must come from its owner, checked with the provider: never typed in here.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # View-only; `has_view_permission` still lets operators open the page.
        return False

    def delete_model(self, request, obj: ApiConfiguration) -> None:
        services.api_configuration_delete(
            configuration=obj, request=request, by_operator=request.user.email
        )

    def delete_queryset(self, request, queryset) -> None:
        for configuration in queryset.select_related("provider", "user"):
            self.delete_model(request, configuration)
