"""Forms of the byok app, shared by the dashboard views and the JSON API."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from bambi.budgets import BudgetField
from byok.selectors import active_providers

# Real keys are 39 (Google) to ~200 (OpenAI project keys) characters; anything far longer is
# not a key and is refused before it reaches a provider, a log line or the database.
API_KEY_MAX_LENGTH = 512
# Printable ASCII without spaces: a key travels in an HTTP header, where a newline or a
# control character would be a header injection.
_KEY_CHARACTERS = re.compile(r"[\x21-\x7e]+")


class ApiKeyField(forms.CharField):
    """A provider key: never rendered back into a page, checked for shape only."""

    characters = _KEY_CHARACTERS  # the JSON API's document states it too (bambi.api.form_field)

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("API key"))
        kwargs.setdefault("max_length", API_KEY_MAX_LENGTH)
        kwargs.setdefault(
            "widget",
            forms.PasswordInput(
                render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
        )
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("Enter the API key."),
                "max_length": _(
                    "This is too long to be an API key (at most %(limit_value)d characters)."
                ),
            },
        )
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value and not self.characters.fullmatch(value):
            raise forms.ValidationError(
                _("An API key contains no spaces or special characters; check what you pasted."),
                code="invalid_characters",
            )


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Name"))
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("Give the key a name."),
                "max_length": _("Keep the name under %(limit_value)d characters."),
            },
        )
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": _("e.g. Personal")}))
        super().__init__(**kwargs)


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


def selectable_providers():
    """Active providers that Bambi has an adapter for (an operator may add a row first)."""
    from byok.providers import PROVIDERS

    return active_providers().filter(slug__in=list(PROVIDERS))


class ApiConfigurationCreateForm(forms.Form):
    """Add a key: name, provider (active only) and the key itself."""

    name = NameField()
    provider = ProviderChoiceField(
        queryset=selectable_providers(),
        label=_("Provider"),
        empty_label=None,
        error_messages={
            "required": _("Choose a provider."),
            "invalid_choice": _("This provider does not exist or is not available."),
        },
    )
    api_key = ApiKeyField()
    monthly_budget_usd = BudgetField()

    field_order = ["name", "provider", "api_key", "monthly_budget_usd"]


class ApiConfigurationUpdateForm(forms.Form):
    """Rename, replace the key and/or set the monthly budget; at least one of them (PATCH,
    and the dashboard's rename, replace and budget forms, which each send one). The budget is
    changed only when `monthly_budget_usd` is in the data: empty there removes it."""

    name = NameField(required=False)
    api_key = ApiKeyField(required=False, label=_("New API key"))
    monthly_budget_usd = BudgetField()

    def budget_given(self) -> bool:
        return "monthly_budget_usd" in self.fields and "monthly_budget_usd" in self.data

    def clean(self):
        data = super().clean()
        if (
            not self.errors
            and not data.get("name")
            and not data.get("api_key")
            and not self.budget_given()
        ):
            raise forms.ValidationError(
                _("Send a new name, a new API key or a monthly budget (or several of them).")
            )
        return data


class RenameForm(ApiConfigurationUpdateForm):
    """The dashboard's rename form: the update form with the name required."""

    name = NameField()
    api_key = None
    monthly_budget_usd = None


class BudgetForm(ApiConfigurationUpdateForm):
    """The dashboard's budget form: the update form with the budget alone (empty removes it)."""

    name = None
    api_key = None

    def budget_given(self) -> bool:
        return True


class ReplaceKeyForm(ApiConfigurationUpdateForm):
    """The dashboard's replace form: the update form with the key required."""

    name = None
    api_key = ApiKeyField(label=_("New API key"))
    monthly_budget_usd = None


class ApiKeyCheckForm(forms.Form):
    """Check a key without storing it."""

    provider = ApiConfigurationCreateForm.base_fields["provider"]
    api_key = ApiKeyField()
