"""French and English: the browser's language picks the page language, the footer switcher
overrides it, API errors follow it, and the committed French catalogue is complete and compiled
(CI machines have no gettext, so the .mo in the repository is what runs)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from byok.models import ApiConfiguration
from byok.providers.errors import ProviderTimeout
from tests.factories import make_configuration

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
FR = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9,en;q=0.5"}


@pytest.fixture
def with_key(user, catalogue) -> ApiConfiguration:
    """A stored OpenAI key, so the generate page shows its form."""
    return make_configuration(
        user, catalogue["openai"], name="Perso", key="sk-proj-" + "a1B2c3D4" * 6
    )


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# (url, French phrases of ours, the English they replace)
PAGES = [
    ("/dashboard/", ["Vue d’ensemble", "Dernières images"], "Latest images"),
    ("/dashboard/keys/", ["Vos clés", "Revérifier"], "Re-validate"),
    ("/dashboard/generate/", ["Nombre d’images", "Coût estimé, facturé"], "Number of images"),
    ("/dashboard/gallery/", ["Générer une image", "en privé"], "Generate an image"),
    ("/dashboard/billing/", ["Votre formule", "Gratuite"], "Your plan"),
    ("/dashboard/account/", ["Exporter mes données", "Supprimer mon compte"], "Export my data"),
    ("/dashboard/tokens/", ["Jetons d’API", "Créer un jeton"], "Make a token"),
]


def test_landing_page_is_french_for_a_french_browser(client: Client):
    page = _text(client.get("/", **FR))
    assert '<html lang="fr"' in page
    assert "Apportez votre propre clé" in page
    assert "S’inscrire" in page
    assert "Bring your own key" not in page


@pytest.mark.parametrize("url, french, english", PAGES)
def test_dashboard_pages_are_french_for_a_french_browser(
    logged_in: Client, with_key, url, french, english
):
    page = _text(logged_in.get(url, **FR))
    assert '<html lang="fr"' in page
    for phrase in french:
        assert phrase in page
    assert english not in page
    # The sidebar and footer are ours too.
    assert "Facturation" in page
    assert "Vos clés, vos images." in page


@pytest.mark.parametrize("url, french, english", PAGES)
def test_pages_stay_english_without_a_language_preference(
    logged_in: Client, with_key, url, french, english
):
    page = _text(logged_in.get(url))
    assert '<html lang="en"' in page
    assert english in page
    assert french[0] not in page


def test_footer_switcher_changes_the_language_of_later_pages(logged_in: Client):
    page = _text(logged_in.get("/dashboard/"))
    assert 'action="/i18n/setlang/"' in page
    assert 'name="language"' in page

    response = logged_in.post("/i18n/setlang/", {"language": "fr", "next": "/dashboard/"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"  # no /fr/ prefix: URLs never carry a language
    assert logged_in.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    page = _text(logged_in.get("/dashboard/"))
    assert '<html lang="fr"' in page
    assert "Dernières images" in page
    # The chosen language beats the browser's.
    page = _text(logged_in.get("/dashboard/billing/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Votre formule" in page

    response = logged_in.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
    assert response.status_code == 302
    page = _text(logged_in.get("/dashboard/", **FR))
    assert '<html lang="en"' in page
    assert "Latest images" in page


def test_switcher_works_for_visitors_and_urls_have_no_language_prefix(client: Client):
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert "Apportez votre propre clé" in _text(client.get("/"))
    assert client.get("/fr/").status_code == 404
    assert client.get("/en/dashboard/").status_code == 404


def test_api_error_sentences_follow_the_browser_language(client: Client):
    response = client.get("/api/usage/", **FR)
    assert response.status_code == 401
    assert response.json() == {"error": "Vous devez être connecté."}
    response = client.get("/api/usage/")
    assert response.json() == {"error": "You need to be logged in."}


def test_api_validation_errors_are_french(logged_in: Client, catalogue):
    response = logged_in.post(
        "/api/generations/", data="not json", content_type="application/json", **FR
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Le corps de la requête n’est pas un JSON valide."


def test_provider_error_defaults_are_translated_when_raised():
    with translation.override("fr"):
        assert (
            ProviderTimeout().message == "Le fournisseur d’images a mis trop de temps à répondre."
        )
    with translation.override("en"):
        assert ProviderTimeout().message == "The image provider took too long to answer."


# --- the catalogue ---------------------------------------------------------------------------


def _po_entries(text: str) -> list[dict]:
    """The entries of a .po file: {"flags", "msgid", "msgid_plural", "msgstr": [..]}."""
    entries = []
    for block in text.strip().split("\n\n"):
        entry: dict = {"flags": "", "msgid": None, "msgid_plural": None, "msgstr": []}
        key = None
        parts: dict[str, list[str]] = {}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#"):
                continue
            elif match := re.match(
                r'^(msgid_plural|msgid|msgstr(?:\[\d+\])?|msgctxt) (".*")$', line
            ):
                key = match.group(1)
                parts[key] = [match.group(2)]
            elif line.startswith('"') and key:
                parts[key].append(line)
        for key, lines in parts.items():
            value = "".join(ast.literal_eval(line) for line in lines)
            if key.startswith("msgstr"):
                entry["msgstr"].append(value)
            elif key in ("msgid", "msgid_plural"):
                entry[key] = value
        entries.append(entry)
    return [e for e in entries if e["msgid"]]  # drop the header


def test_french_catalogue_has_no_empty_or_fuzzy_entry():
    entries = _po_entries(PO_FILE.read_text(encoding="utf-8"))
    assert len(entries) > 300
    empty = [e["msgid"] for e in entries if not e["msgstr"] or not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert empty == []
    assert fuzzy == []


def test_compiled_catalogue_matches_the_po_file():
    """The committed .mo holds every translation of the .po (compilemessages was run)."""
    entries = _po_entries(PO_FILE.read_text(encoding="utf-8"))
    with MO_FILE.open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    stale = []
    for entry in entries:
        if entry["msgid_plural"] is not None:
            got = [mo.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
            if got != entry["msgstr"]:
                stale.append(entry["msgid"])
        elif mo.gettext(entry["msgid"]) != entry["msgstr"][0]:
            stale.append(entry["msgid"])
    assert stale == []
    assert mo.gettext("You need to be logged in.") == "Vous devez être connecté."
    plural = mo.ngettext("%(n)s stored API key", "%(n)s stored API keys", 3)
    assert plural == "%(n)s clés API enregistrées"


def test_every_marked_template_string_is_in_the_catalogue():
    """Strings marked in templates after the last makemessages would show in English."""
    msgids = {e["msgid"] for e in _po_entries(PO_FILE.read_text(encoding="utf-8"))}
    tag = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
    missing = []
    for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        for _quote, text in tag.findall(path.read_text(encoding="utf-8")):
            if text not in msgids:
                missing.append(f"{path.name}: {text}")
    assert missing == []
