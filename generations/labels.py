"""Settings in words: "Quality: high", "Format: PNG", "Size: 1024 × 1024", never the API's
names (`output_format: png`). One table for the pages (Python) and for generate.js (the
same table, sent as JSON), so a value reads the same everywhere and in both languages."""

from __future__ import annotations

import functools

from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

# The order settings are listed in, and their names. "count" is the number of images.
SETTING_NAMES = {
    "count": gettext_lazy("Images"),
    "size": gettext_lazy("Size"),
    "aspect_ratio": gettext_lazy("Aspect ratio"),
    "resolution": gettext_lazy("Resolution"),
    "quality": gettext_lazy("Quality"),
    "style": gettext_lazy("Style"),
    "output_format": gettext_lazy("Format"),
    "background": gettext_lazy("Background"),
    "output_compression": gettext_lazy("Compression"),
    "moderation": gettext_lazy("Moderation"),
    "input_fidelity": gettext_lazy("Input fidelity"),
    "person_generation": gettext_lazy("People"),
}
_AUTOMATIC = gettext_lazy("automatic")
# Words for option values; a value that is not here is shown as the catalogue spells it
# (sizes and ratios are numbers, see `value_label`).
VALUE_WORDS = {
    "quality": {
        "low": gettext_lazy("low"),
        "medium": gettext_lazy("medium"),
        "high": gettext_lazy("high"),
        "auto": _AUTOMATIC,
        "standard": gettext_lazy("standard"),
        "hd": gettext_lazy("HD"),
    },
    "style": {"vivid": gettext_lazy("vivid"), "natural": gettext_lazy("natural")},
    "background": {
        "auto": _AUTOMATIC,
        "opaque": gettext_lazy("opaque"),
        "transparent": gettext_lazy("transparent"),
    },
    "output_format": {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WebP"},
    "moderation": {"auto": _AUTOMATIC, "low": gettext_lazy("less strict")},
    "input_fidelity": {"low": gettext_lazy("low"), "high": gettext_lazy("high")},
    "person_generation": {
        "dont_allow": gettext_lazy("no people"),
        "allow_adult": gettext_lazy("adults only"),
        "allow_all": gettext_lazy("adults and children"),
    },
    "size": {"auto": _AUTOMATIC},
    "aspect_ratio": {"auto": _AUTOMATIC},
}


def value_label(name: str, value) -> str:
    """One option value in words, e.g. ("quality", "high") -> "high"."""
    if value is None:
        return ""
    text = str(value)
    word = VALUE_WORDS.get(name, {}).get(text)
    if word is not None:
        return str(word)
    if name == "size" and "x" in text:
        return text.replace("x", " × ")
    if name == "resolution":
        return text.upper()
    return text


def setting_line_text(setting, value) -> str:
    """ "<setting>: <value>" as the active language writes it (French: "Qualité : élevée")."""
    return _("%(setting)s: %(value)s") % {"setting": setting, "value": value}


def setting_line(name: str, value) -> str:
    """ "Quality: high", "Format: PNG"."""
    return _setting_line(get_language() or "", name, value if value is None else str(value))


# A gallery page lists two dozen generations made with the same few settings: each line is
# worded once per language (three translations looked up), not once per card.
@functools.lru_cache(maxsize=2048)
def _setting_line(language: str, name: str, value: str | None) -> str:
    return setting_line_text(SETTING_NAMES.get(name, name), value_label(name, value))


def settings_summary(parameters: dict | None) -> list[str]:
    """The settings a generation was made with, in words and in a stable order; the model is
    shown on its own and left out here."""
    parameters = parameters or {}
    return [
        setting_line(name, parameters[name])
        for name in SETTING_NAMES
        if parameters.get(name) not in (None, "")
    ]


def choice_label(name: str, value) -> str:
    """An option value as a choice in a list: "High", "PNG", "1024 × 1024"."""
    return capfirst(value_label(name, value))


def labels_for_script() -> dict:
    """The same words for generate.js (in the active language)."""
    return {
        "settings": {name: str(label) for name, label in SETTING_NAMES.items()},
        "values": {
            name: {value: str(word) for value, word in words.items()}
            for name, words in VALUE_WORDS.items()
        },
        "line": _("%(setting)s: %(value)s"),
    }
