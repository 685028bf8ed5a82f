"""What every provider adapter must do, run over the registry (byok/providers/__init__.py).

Each provider brings a fixtures folder, tests/fixtures/providers/<slug>/: its recorded answers
and a contract.json that says which answer plays which part (a valid key, a refusal, a 429…,
an edit and how it is sent) and what Bambi must make of it. A new adapter with no folder, or
a folder that leaves a part of the contract out, fails here. Provider-specific behaviour
(request bodies, quota wording, cost) is tested in test_providers_<slug>.py.

HTTP is mocked with `responses` at the URLs the adapter builds; every test also checks that the
URL stays under the provider row's base URL and that the key travels in the provider's header.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from bambi.http import redact
from byok.providers import PROVIDERS, get_provider
from byok.providers import errors as provider_errors
from byok.providers.base import ProviderAdapter
from byok.providers.errors import (
    BadRequest,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from generations.inputs import InputImage
from tests.images import b64, jpeg_bytes, mask_png, png_bytes
from tests.recorded import PROVIDER_FIXTURES, contract, recorded
from tests.wire import multipart_parts, request_images

JSON = "application/json"

SLUGS = sorted(PROVIDERS)
# A key no redaction pattern recognises: only the adapter's own scrubbing can keep it out.
PATTERNLESS_KEY = "hunter2-correct-horse-battery"


def base_url(slug: str) -> str:
    return f"https://{slug}.provider.test"  # hosts tests/conftest.py lets through


def adapter_for(slug: str) -> ProviderAdapter:
    return get_provider(slug, base_url(slug) + "/")


def cases(part: str, kind: str) -> list:
    """pytest params (slug, case) for one list of every provider's contract.json."""
    return [
        pytest.param(slug, case, id=f"{slug}-{case.get('status', 200)}-{case['body']}")
        for slug in SLUGS
        for case in contract(slug)[part].get(kind) or []
    ]


def strings_in(node: Any) -> set[str]:
    """Every string of a JSON body, as Bambi would show it (key-shaped words redacted)."""
    if isinstance(node, str):
        return {redact(node)}
    if isinstance(node, dict):
        return set().union(*(strings_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(strings_in(value) for value in node))
    return set()


def assert_key_sent_properly(slug: str, request, key: str) -> None:
    """The key goes in the provider's header, never in the URL; the URL is built from the row."""
    header, template = contract(slug)["key_header"]
    assert request.headers[header] == template.format(key=key)
    assert key not in request.url
    assert request.url.startswith(base_url(slug) + "/")


# --- the registry and the fixtures folders ------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_registry_builds_each_adapter_from_the_provider_row_url(slug):
    adapter = get_provider(slug, base_url(slug) + "///")

    assert isinstance(adapter, PROVIDERS[slug])
    assert type(adapter).slug == slug
    assert adapter.base_url == base_url(slug)


def test_every_fixtures_folder_belongs_to_a_registered_provider():
    folders = {path.name for path in PROVIDER_FIXTURES.iterdir() if path.is_dir()}

    assert folders == set(PROVIDERS)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_provider_records_every_part_of_the_contract(slug):
    terms = contract(slug)
    validate, generate = terms["validate"], terms["generate"]
    assert validate["path"].startswith("/")
    assert validate["valid"] and validate["invalid"] and validate["unreachable"]
    assert generate["success"]
    assert generate["url_answer"] or generate["url_answer_absent_because"]
    outcomes = {(case["error"], case["status"] >= 500) for case in generate["errors"]}
    for needed in ("InvalidKey", "ContentRefused", "RateLimited", "OutOfCredit"):
        assert (needed, False) in outcomes, f"{slug} records no answer that means {needed}"
    assert ("ProviderUnavailable", True) in outcomes, f"{slug} records no 5xx"
    parts = [validate["valid"], validate["invalid"], validate["unreachable"]]
    for case in [*parts, generate["success"], generate["url_answer"] or []]:
        for entry in case:
            assert (PROVIDER_FIXTURES / slug / f"{entry['body']}.json").is_file()
    for entry in generate["errors"]:
        assert issubclass(getattr(provider_errors, entry["error"]), ProviderError)
        assert (PROVIDER_FIXTURES / slug / f"{entry['body']}.json").is_file()


# --- validate_key -------------------------------------------------------------------------------


def validation_url(slug: str) -> str:
    """Where the key is checked: the recorded path under the row's base URL."""
    return base_url(slug) + contract(slug)["validate"]["path"]


@pytest.mark.parametrize(("slug", "case"), cases("validate", "valid"))
def test_validate_accepts_a_working_key(rsps, slug, case):
    key = contract(slug)["key"]
    rsps.get(validation_url(slug), status=case["status"], json=recorded(slug, case["body"]))

    check = adapter_for(slug).validate_key(key)

    assert check.status == "valid" and check.is_valid
    assert len(rsps.calls) == 1
    assert_key_sent_properly(slug, rsps.calls[0].request, key)


@pytest.mark.parametrize(("slug", "case"), cases("validate", "invalid"))
def test_validate_reports_a_rejected_key_as_invalid_in_the_providers_words(rsps, slug, case):
    key = contract(slug)["key"]
    body = recorded(slug, case["body"])
    rsps.get(validation_url(slug), status=case["status"], json=body)

    check = adapter_for(slug).validate_key(key)

    assert check.status == "invalid" and not check.is_valid
    assert check.reason.startswith(case["says"])
    assert check.reason in strings_in(body)


@pytest.mark.parametrize("key_kind", ["shaped", "patternless"])
@pytest.mark.parametrize(("slug", "case"), cases("validate", "invalid"))
def test_validate_never_echoes_the_key(rsps, slug, case, key_kind):
    key = contract(slug)["key"] if key_kind == "shaped" else PATTERNLESS_KEY
    says = case["says"]
    text = json.dumps(recorded(slug, case["body"])).replace(says, f"{says} {key}")
    rsps.get(validation_url(slug), status=case["status"], body=text)

    check = adapter_for(slug).validate_key(key)

    assert check.status == "invalid"
    assert says in check.reason
    assert key not in check.reason


@pytest.mark.parametrize(("slug", "case"), cases("validate", "unreachable"))
def test_validate_calls_a_provider_failure_unreachable_never_invalid(rsps, slug, case):
    key = contract(slug)["key"]
    rsps.get(validation_url(slug), status=case["status"], json=recorded(slug, case["body"]))

    check = adapter_for(slug).validate_key(key)

    assert check.status == "unreachable"
    assert not check.timed_out


@pytest.mark.parametrize(
    ("failure", "timed_out"),
    [
        (requests.exceptions.ConnectionError("refused"), False),
        (requests.exceptions.ConnectTimeout("slow to connect"), True),
        (requests.exceptions.ReadTimeout("read timed out"), True),
    ],
    ids=["connection-refused", "connect-timeout", "read-timeout"],
)
@pytest.mark.parametrize("slug", SLUGS)
def test_validate_calls_a_network_failure_unreachable_and_says_when_it_timed_out(
    rsps, slug, failure, timed_out
):
    key = contract(slug)["key"]
    rsps.get(validation_url(slug), body=failure)

    check = adapter_for(slug).validate_key(key)

    assert check.status == "unreachable"
    assert check.timed_out is timed_out
    assert check.reason


# --- generate -----------------------------------------------------------------------------------


def generation_url(slug: str, model: str) -> str:
    return adapter_for(slug).build_request(key="k", model_id=model, prompt="p", options={}).url


def model_of(slug: str, case: dict | None = None) -> str:
    return (case or {}).get("model") or contract(slug)["generate"]["model"]


def generate(slug: str, model: str, key: str | None = None, **options):
    key = key or contract(slug)["key"]
    return adapter_for(slug).generate(key=key, model_id=model, prompt="a fawn", options=options)


@pytest.mark.parametrize(("slug", "case"), cases("generate", "success"))
def test_generate_returns_the_decoded_image(rsps, slug, case):
    model, image = model_of(slug, case), png_bytes(12, 9)
    rsps.post(
        generation_url(slug, model), json=recorded(slug, case["body"], image_b64=[b64(image)])
    )

    output = generate(slug, model)

    assert [(img.data, img.mime_type) for img in output.images] == [(image, "image/png")]
    assert json.loads(json.dumps(output.usage)) == output.usage  # stored as JSON
    assert len(rsps.calls) == 1
    assert_key_sent_properly(slug, rsps.calls[0].request, contract(slug)["key"])


@pytest.mark.parametrize(("slug", "case"), cases("generate", "success"))
def test_generate_stops_at_the_count_asked_for(rsps, slug, case):
    model, images = model_of(slug, case), [png_bytes(4, 4 + n) for n in range(3)]
    body = recorded(slug, case["body"], image_b64=[b64(image) for image in images])
    rsps.post(generation_url(slug, model), json=body)

    output = generate(slug, model, count=2)

    assert [img.data for img in output.images] == images[:2]


@pytest.mark.parametrize(("slug", "case"), cases("generate", "errors"))
def test_generate_maps_each_recorded_failure_to_its_error(rsps, slug, case):
    model, body = model_of(slug, case), recorded(slug, case["body"])
    rsps.post(generation_url(slug, model), status=case["status"], json=body)
    error_class = getattr(provider_errors, case["error"])

    with pytest.raises(ProviderError) as caught:
        generate(slug, model)

    error = caught.value
    assert type(error) is error_class
    assert error.provider_status == case["status"]
    # The provider's own words when it gave some, else Bambi's sentence for that error.
    assert error.message in strings_in(body) or error.message == error_class.default_message
    assert error.message.startswith(case.get("says", ""))
    if "code" in case:
        assert error.code == case["code"]


@pytest.mark.parametrize("key_kind", ["shaped", "patternless"])
@pytest.mark.parametrize(
    ("slug", "case"),
    [param for param in cases("generate", "errors") if param.values[1]["error"] == "InvalidKey"],
)
def test_generate_never_echoes_the_key_from_an_error_body(rsps, slug, case, key_kind):
    key = contract(slug)["key"] if key_kind == "shaped" else PATTERNLESS_KEY
    model, says = model_of(slug, case), case["says"]
    text = json.dumps(recorded(slug, case["body"])).replace(says, f"{says} {key}")
    rsps.post(generation_url(slug, model), status=case["status"], body=text)

    with pytest.raises(provider_errors.InvalidKey) as caught:
        generate(slug, model, key=key)

    assert says in caught.value.message
    for shown in (caught.value.message, str(caught.value), repr(caught.value), caught.value.args):
        assert key not in str(shown)


@pytest.mark.parametrize(
    ("failure", "error_class", "http_status"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), ProviderTimeout, 504),
        (requests.exceptions.ConnectTimeout("slow to connect"), ProviderTimeout, 504),
        (requests.exceptions.ConnectionError("refused"), ProviderUnavailable, 502),
    ],
    ids=["read-timeout", "connect-timeout", "connection-refused"],
)
@pytest.mark.parametrize("slug", SLUGS)
def test_generate_network_failure_is_an_error_after_exactly_one_call(
    rsps, slug, failure, error_class, http_status
):
    model = model_of(slug)
    rsps.post(generation_url(slug, model), body=failure)

    with pytest.raises(error_class) as caught:
        generate(slug, model)

    assert type(caught.value) is error_class
    assert caught.value.http_status == http_status
    assert len(rsps.calls) == 1  # never retried: the provider may have billed the images


@pytest.mark.parametrize("slug", SLUGS)
def test_generate_waits_the_long_generation_timeout(rsps, slug, settings):
    settings.PROVIDER_READ_TIMEOUT = 77.0
    success = contract(slug)["generate"]["success"][0]
    model = model_of(slug, success)
    rsps.post(
        generation_url(slug, model),
        json=recorded(slug, success["body"], image_b64=[b64(png_bytes())]),
    )

    generate(slug, model)

    assert rsps.calls[0].request.req_kwargs["timeout"][1] == 77.0


# --- garbage ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 502])
@pytest.mark.parametrize("slug", SLUGS)
def test_generate_reports_an_html_page_as_unavailable(rsps, slug, status):
    model = model_of(slug)
    rsps.post(generation_url(slug, model), status=status, body=b"<html><body>Bad gateway</body>")

    with pytest.raises(ProviderUnavailable) as caught:
        generate(slug, model)

    assert "<html>" not in caught.value.message
    assert caught.value.provider_status == status


@pytest.mark.parametrize("slug", SLUGS)
def test_generate_reports_an_html_429_as_rate_limited(rsps, slug):
    model = model_of(slug)
    rsps.post(generation_url(slug, model), status=429, body=b"<html>Too Many Requests</html>")

    with pytest.raises(RateLimited):
        generate(slug, model)


@pytest.mark.parametrize(("slug", "case"), cases("generate", "success"))
def test_generate_reports_undecodable_base64_as_unavailable(rsps, slug, case):
    model = model_of(slug, case)
    body = recorded(slug, case["body"], image_b64=["not base64 at all!"])
    rsps.post(generation_url(slug, model), json=body)

    with pytest.raises(ProviderUnavailable, match="decoded"):
        generate(slug, model)


# --- an answer that is a URL: downloaded at once, without the key -------------------------------

IMAGE_URL = "https://images.example.net/tmp/img-1.png?sig=abc"


@pytest.mark.parametrize(("slug", "case"), cases("generate", "url_answer"))
def test_generate_downloads_a_url_answer_without_the_key(rsps, slug, case):
    model, image = model_of(slug, case), png_bytes(8, 8)
    rsps.post(generation_url(slug, model), json=recorded(slug, case["body"], image_url=IMAGE_URL))
    rsps.get(IMAGE_URL, body=image, content_type="image/png")

    output = generate(slug, model)

    assert [(img.data, img.mime_type) for img in output.images] == [(image, "image/png")]
    assert output.images[0].revised_prompt.startswith(case["revised_prompt"])
    download = rsps.calls[1].request
    assert download.url == IMAGE_URL
    assert contract(slug)["key_header"][0] not in download.headers
    assert contract(slug)["key"] not in str(download.headers)


@pytest.mark.parametrize(("slug", "case"), cases("generate", "url_answer"))
def test_generate_reports_a_download_over_the_size_cap_as_unavailable(rsps, slug, case, settings):
    settings.IMAGE_DOWNLOAD_MAX_BYTES = 1024
    model = model_of(slug, case)
    rsps.post(generation_url(slug, model), json=recorded(slug, case["body"], image_url=IMAGE_URL))
    rsps.get(IMAGE_URL, body=b"\x89PNG" + b"0" * 5000, content_type="image/png")

    with pytest.raises(ProviderUnavailable, match="larger than"):
        generate(slug, model)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://images.example.net/a"])
@pytest.mark.parametrize(("slug", "case"), cases("generate", "url_answer"))
def test_generate_refuses_a_non_http_image_url(rsps, slug, case, url):
    model = model_of(slug, case)
    rsps.post(generation_url(slug, model), json=recorded(slug, case["body"], image_url=url))

    with pytest.raises(ProviderUnavailable, match="http and https"):
        generate(slug, model)

    assert len(rsps.calls) == 1


# --- edit: input images (and a mask) in the provider's own dialect -------------------------------


def edit_url(slug: str) -> str:
    return base_url(slug) + contract(slug)["edit"]["path"]


def edit_model(slug: str) -> str:
    return contract(slug)["edit"]["model"]


def two_inputs() -> list[InputImage]:
    """A PNG then a JPEG: the edit must carry both, in order, each with its own type."""
    return [
        InputImage(png_bytes(16, 12), "image/png", 16, 12),
        InputImage(jpeg_bytes(10, 10), "image/jpeg", 10, 10),
    ]


def edit(slug: str, images: list, mask=None, **options):
    return adapter_for(slug).generate(
        key=contract(slug)["key"],
        model_id=edit_model(slug),
        prompt="make it snow",
        options=options,
        images=images,
        mask=mask,
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_every_provider_records_an_edit(slug):
    terms = contract(slug)["edit"]
    assert terms["path"].startswith("/") and terms["encoding"] in ("multipart", "json")
    assert terms["success"] and isinstance(terms["mask"], bool)
    for entry in terms["success"] + terms["errors"]:
        assert (PROVIDER_FIXTURES / slug / f"{entry['body']}.json").is_file()


@pytest.mark.parametrize(("slug", "case"), cases("edit", "success"))
def test_edit_sends_every_input_image_in_order_and_returns_the_answer(rsps, slug, case):
    answer = png_bytes(16, 12, color=(9, 99, 199))
    rsps.post(edit_url(slug), json=recorded(slug, case["body"], image_b64=[b64(answer)]))
    images = two_inputs()

    output = edit(slug, images)

    assert [(img.data, img.mime_type) for img in output.images] == [(answer, "image/png")]
    request = rsps.calls[0].request
    assert request.url == edit_url(slug)
    assert_key_sent_properly(slug, request, contract(slug)["key"])
    content_type = request.headers["Content-Type"]
    expected = "multipart/form-data" if contract(slug)["edit"]["encoding"] == "multipart" else JSON
    assert content_type.startswith(expected)
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    assert request_images(body, content_type) == [(i.data, i.mime_type) for i in images]
    assert b"make it snow" in body


@pytest.mark.parametrize("slug", SLUGS)
def test_edit_sends_the_mask_where_the_provider_takes_one_and_refuses_it_elsewhere(rsps, slug):
    success = contract(slug)["edit"]["success"][0]["body"]
    rsps.post(edit_url(slug), json=recorded(slug, success, image_b64=[b64(png_bytes())]))
    images, mask = two_inputs(), InputImage(mask_png(16, 12), "image/png", 16, 12)

    if not contract(slug)["edit"]["mask"]:
        with pytest.raises(BadRequest):
            edit(slug, images, mask)
        assert len(rsps.calls) == 0  # refused before anything was sent
        return
    edit(slug, images, mask)
    request = rsps.calls[0].request
    parts = multipart_parts(request.body, request.headers["Content-Type"])
    sent = [part for part in parts if part.name == "mask"]
    assert [(p.data, p.content_type) for p in sent] == [(mask.data, "image/png")]


@pytest.mark.parametrize(("slug", "case"), cases("edit", "errors"))
def test_edit_maps_each_recorded_failure_to_its_error(rsps, slug, case):
    body = recorded(slug, case["body"])
    rsps.post(edit_url(slug), status=case["status"], json=body)

    with pytest.raises(ProviderError) as caught:
        edit(slug, two_inputs())

    assert type(caught.value) is getattr(provider_errors, case["error"])
    assert caught.value.message.startswith(case["says"])


@pytest.mark.parametrize("slug", SLUGS)
def test_edit_is_never_retried_after_a_read_timeout(rsps, slug):
    rsps.post(edit_url(slug), body=requests.exceptions.ReadTimeout("read timed out"))

    with pytest.raises(ProviderTimeout):
        edit(slug, two_inputs())

    assert len(rsps.calls) == 1
