"""The token form: one set of rules for the API tokens page and POST /api/tokens/."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from byok.selectors import active_image_models, image_models_named
from tokens.models import model_ref


class ModelListField(forms.MultipleChoiceField):
    """Models a token may use: the page's checkboxes send "provider/model" ids, API clients
    may also send a bare model id when one provider alone has it. Cleans to ImageModels."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def refresh_choices(self) -> None:
        # Read at each form, not at import: operators change the catalogue in the admin.
        self.choices = [
            (model_ref(model), f"{model.provider.name} · {model.name} ({model.model_id})")
            for model in active_image_models().order_by("provider__name", "name")
        ]

    def to_python(self, value):
        if value in self.empty_values:
            return []
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise forms.ValidationError(
                _("List the allowed models as model ids, e.g. [“gpt-image-1.5”]."),
                code="invalid_list",
            )
        if not all(isinstance(item, str) for item in value):
            raise forms.ValidationError(
                _("Each allowed model is a model id such as “gpt-image-1.5”."), code="invalid_list"
            )
        return [item.strip() for item in value if item.strip()]

    def validate(self, value) -> None:
        forms.Field.validate(self, value)  # not the choices check: bare ids are resolved below

    def clean(self, value):
        refs = super().clean(value)
        models = []
        for ref in refs:
            found = image_models_named(ref)
            if not found:
                raise forms.ValidationError(
                    _("There is no model “%(model)s” to allow.") % {"model": ref[:100]},
                    code="unknown_model",
                )
            if len(found) > 1:
                raise forms.ValidationError(
                    _("Several providers have a model “%(model)s”; write one of: %(choices)s.")
                    % {"model": ref, "choices": ", ".join(model_ref(m) for m in found)},
                    code="ambiguous_model",
                )
            if found[0] not in models:
                models.append(found[0])
        return models


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        strip=True,
        help_text=_("What the token is for, e.g. “CI script”."),
        error_messages={
            "required": _("Give the token a name, e.g. “CI script”."),
            "max_length": _("The name is too long (at most %(limit_value)d characters)."),
        },
    )
    expires_at = forms.DateTimeField(
        label=_("Expires on"),
        required=False,
        help_text=_("Optional. After this date the token stops working."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "invalid": _("Write the expiry as a date (2027-01-31) or an ISO 8601 date and time.")
        },
    )
    allowed_models = ModelListField(
        label=_("Allowed models"),
        help_text=_("Optional. Leave all unticked to allow every model."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allowed_models"].refresh_choices()

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError(
                _("The expiry must be in the future."), code="expiry_in_past"
            )
        return expires_at
