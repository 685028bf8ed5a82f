"""The generation form: one set of rules for the dashboard and for POST /api/generations/.

Everything is checked against the chosen model's `capabilities` (byok/catalogue.py), so an
operator who edits a model in the admin changes what the form accepts without a deploy. An
edit is the same form with input images (and a mask), read and checked by generations.inputs.
"""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from bambi.ids import parse_uuid
from byok.models import ApiConfiguration, ImageModel
from byok.selectors import image_model_for_generation
from generations.inputs import (
    InputRejected,
    InputSource,
    input_image_from_source,
    inputs_check,
    mask_from_source,
)

# form field -> capabilities key listing its allowed values
OPTION_CAPABILITIES = {
    "size": "sizes",
    "aspect_ratio": "aspect_ratios",
    "quality": "qualities",
    "style": "styles",
    "resolution": "resolutions",
    "output_format": "output_formats",
    "background": "backgrounds",
    "moderation": "moderations",
    "input_fidelity": "input_fidelities",
    "person_generation": "person_generations",
}
# Options of one kind of call only: OpenAI's edits take input_fidelity and no moderation.
EDIT_ONLY = {"input_fidelity"}
GENERATION_ONLY = {"moderation"}
# An edit keeps its input's shape unless the user picks one: these defaults are not applied.
SHAPE_OPTIONS = {"size", "aspect_ratio"}
COMPRESSED_FORMATS = ("jpeg", "webp")
OPTION_LABELS = {
    "size": _("Size"),
    "aspect_ratio": _("Aspect ratio"),
    "quality": _("Quality"),
    "style": _("Style"),
    "resolution": _("Resolution"),
    "output_format": _("Output format"),
    "background": _("Background"),
    "moderation": _("Moderation"),
    "input_fidelity": _("Input fidelity"),
    "person_generation": _("People"),
    "output_compression": _("Compression"),
}
DEFAULT_MAX_PROMPT_LENGTH = 4000


class _InputsWidget(forms.Widget):
    """Reads input images from an API body (a list of InputSource) or a page's POST (gallery
    image ids or data: URLs as repeated fields, and uploaded files under the same name)."""

    def __init__(self, *, many: bool) -> None:
        super().__init__()
        self.many = many

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):  # a page's POST
            values = [v for v in data.getlist(name) if v] + list(files.getlist(name))
        else:
            value = data.get(name)
            values = list(value) if isinstance(value, list | tuple) else [value]
        values = [InputSource.from_value(v) for v in values if v is not None]
        return values if self.many else (values[-1] if values else None)


class InputImagesField(forms.Field):
    widget = _InputsWidget(many=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, label=None, **kwargs)


class MaskField(forms.Field):
    widget = _InputsWidget(many=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, label=None, **kwargs)


class GenerationForm(forms.Form):
    """Prompt, key, model and the model's own options: what `generation_run` takes, checked
    once here. `cleaned_data` holds `configuration` (a usable ApiConfiguration of the user),
    `model` (an active ImageModel of that key's provider), `prompt` and `options` (every option
    the adapter receives, defaults filled in)."""

    configuration = forms.CharField(
        label=_("Key"), error_messages={"required": _("Choose one of your keys.")}
    )
    model = forms.CharField(label=_("Model"), error_messages={"required": _("Choose a model.")})
    prompt = forms.CharField(
        label=_("Prompt"),
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write a prompt describing the image you want.")},
    )
    count = forms.IntegerField(
        label=_("Number of images"),
        required=False,
        min_value=1,
        error_messages={"invalid": _("The number of images must be a whole number.")},
    )
    size = forms.CharField(label=OPTION_LABELS["size"], required=False)
    aspect_ratio = forms.CharField(label=OPTION_LABELS["aspect_ratio"], required=False)
    quality = forms.CharField(label=OPTION_LABELS["quality"], required=False)
    style = forms.CharField(label=OPTION_LABELS["style"], required=False)
    resolution = forms.CharField(label=OPTION_LABELS["resolution"], required=False)
    output_format = forms.CharField(label=OPTION_LABELS["output_format"], required=False)
    background = forms.CharField(label=OPTION_LABELS["background"], required=False)
    moderation = forms.CharField(label=OPTION_LABELS["moderation"], required=False)
    input_fidelity = forms.CharField(label=OPTION_LABELS["input_fidelity"], required=False)
    person_generation = forms.CharField(label=OPTION_LABELS["person_generation"], required=False)
    output_compression = forms.IntegerField(
        label=OPTION_LABELS["output_compression"],
        required=False,
        min_value=0,
        max_value=100,
        error_messages={
            "invalid": _("The compression is a whole number from 0 to 100."),
            "min_value": _("The compression is a whole number from 0 to 100."),
            "max_value": _("The compression is a whole number from 0 to 100."),
        },
    )
    # Edits: the images sent with the prompt, and a PNG marking with transparency what to change.
    input_images = InputImagesField()
    mask = MaskField()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_configuration(self) -> ApiConfiguration:
        value = self.cleaned_data["configuration"]
        configuration = None
        pk = parse_uuid(value)
        if pk is not None:
            configuration = (
                ApiConfiguration.objects.filter(user=self.user, pk=pk)
                .select_related("provider")
                .first()
            )
        if configuration is None:
            raise forms.ValidationError(_("Choose one of your keys."), code="unknown")
        if not configuration.is_valid:
            raise forms.ValidationError(
                _(
                    "The provider rejected this key. Replace it on the Keys page, or choose "
                    "another key."
                ),
                code="invalid_key",
            )
        if not configuration.provider.is_active:
            raise forms.ValidationError(
                _("%(provider)s is not available on Bambi at the moment.")
                % {"provider": configuration.provider.name},
                code="provider_inactive",
            )
        return configuration

    def run_arguments(self) -> dict:
        """The cleaned request as generation_run's keyword arguments (after is_valid())."""
        data = self.cleaned_data
        return {
            key: data[key]
            for key in ("configuration", "model", "prompt", "options", "input_images", "mask")
        }

    def _find_model(self, value: str, configuration: ApiConfiguration | None) -> ImageModel | None:
        models = ImageModel.objects.select_related("provider")
        pk = parse_uuid(value)
        if pk is not None:
            return image_model_for_generation(pk)
        # The provider's own model id ("dall-e-3") is accepted too, for API clients.
        candidates = list(models.filter(model_id=value))
        if configuration is not None:
            for candidate in candidates:
                if candidate.provider_id == configuration.provider_id:
                    return candidate
        return candidates[0] if candidates else None

    def clean(self):
        cleaned = super().clean()
        configuration = cleaned.get("configuration")
        model_value = cleaned.get("model")
        if not model_value:
            return cleaned
        model = self._find_model(model_value, configuration)
        if model is None:
            self.add_error("model", _("This model does not exist."))
            return cleaned
        if not model.is_active or not model.provider.is_active:
            self.add_error(
                "model", _("%(model)s is not available any more.") % {"model": model.name}
            )
            return cleaned
        if configuration is not None and model.provider_id != configuration.provider_id:
            self.add_error(
                "model",
                _(
                    "%(model)s is a %(model_provider)s model, but the chosen key is for "
                    "%(key_provider)s."
                )
                % {
                    "model": model.name,
                    "model_provider": model.provider.name,
                    "key_provider": configuration.provider.name,
                },
            )
            return cleaned
        cleaned["model"] = model
        self._check_against_capabilities(cleaned, model)
        self._read_inputs(cleaned, model)
        return cleaned

    def _read_inputs(self, cleaned: dict, model: ImageModel) -> None:
        """The input images and mask, read and checked against the model (generations.inputs).
        An image id that is not one of the user's is an error with the code "not_found"."""
        sources, mask_source = cleaned.get("input_images") or [], cleaned.get("mask")
        cleaned["input_images"], cleaned["mask"] = [], None
        try:
            images = [
                input_image_from_source(source, user=self.user, index=index)
                for index, source in enumerate(sources)
            ]
            mask = mask_from_source(mask_source) if mask_source is not None else None
            inputs_check(model=model, images=images, mask=mask)
        except InputRejected as exc:
            self.add_error(exc.field, exc.message)
            return
        except Http404:
            self.add_error(
                "input_images",
                forms.ValidationError(
                    _("One of the input images is not in your gallery."), code="not_found"
                ),
            )
            return
        cleaned["input_images"], cleaned["mask"] = images, mask

    def _check_against_capabilities(self, cleaned: dict, model: ImageModel) -> None:
        capabilities = model.capabilities or {}
        defaults = capabilities.get("defaults") or {}
        prompt = cleaned.get("prompt")
        max_length = int(capabilities.get("max_prompt_length") or DEFAULT_MAX_PROMPT_LENGTH)
        if prompt and len(prompt) > max_length:
            self.add_error(
                "prompt",
                _("The prompt is %(length)d characters long; %(model)s accepts at most %(limit)d.")
                % {"length": len(prompt), "model": model.name, "limit": max_length},
            )
        max_images = int(capabilities.get("max_images") or 1)
        count = cleaned.get("count") or 1
        if count > max_images:
            self.add_error(
                "count",
                _("%(model)s makes at most %(limit)d image(s) per request.")
                % {"model": model.name, "limit": max_images},
            )
        options: dict = {"count": count}
        editing = bool(cleaned.get("input_images"))
        for field, capability in OPTION_CAPABILITIES.items():
            value = (cleaned.get(field) or "").strip()
            allowed = capabilities.get(capability)
            if (field in EDIT_ONLY and not editing) or (field in GENERATION_ONLY and editing):
                if value:
                    self.add_error(field, self._wrong_kind_of_call(model, field, editing))
                continue
            if not allowed:
                if value:
                    self.add_error(
                        field,
                        _("%(model)s has no %(option)s setting.")
                        % {"model": model.name, "option": str(OPTION_LABELS[field]).lower()},
                    )
                continue
            if not value and not (editing and field in SHAPE_OPTIONS):
                value = defaults.get(field) or ""
            if not value:
                continue
            if value not in allowed:
                self.add_error(
                    field,
                    _("%(model)s does not offer “%(value)s”; choose one of: %(allowed)s.")
                    % {"model": model.name, "value": value, "allowed": ", ".join(allowed)},
                )
                continue
            options[field] = value
        self._check_output(cleaned, model, options)
        cleaned["options"] = options

    def _check_output(self, cleaned: dict, model: ImageModel, options: dict) -> None:
        """The file format rules of gpt-image: compression for JPEG and WebP only, and a
        transparent background needs a format that has transparency."""
        output_format = options.get("output_format")
        compression = cleaned.get("output_compression")
        if compression is not None:
            if (model.capabilities or {}).get("output_compression") is not True:
                self.add_error(
                    "output_compression",
                    _("%(model)s has no compression setting.") % {"model": model.name},
                )
            elif output_format not in COMPRESSED_FORMATS:
                self.add_error(
                    "output_compression",
                    _("Compression applies to JPEG and WebP output only; choose one of them."),
                )
            else:
                options["output_compression"] = compression
        if options.get("background") == "transparent" and output_format == "jpeg":
            self.add_error(
                "background",
                _("JPEG has no transparency: choose PNG or WebP for a transparent background."),
            )

    @staticmethod
    def _wrong_kind_of_call(model: ImageModel, field: str, editing: bool) -> str:
        option = str(OPTION_LABELS[field]).lower()
        if editing:
            return _("%(model)s has no %(option)s setting when editing images.") % {
                "model": model.name,
                "option": option,
            }
        return _("%(option)s applies only when you give input images to edit.") % {
            "option": str(OPTION_LABELS[field])
        }
