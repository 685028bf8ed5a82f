"""bambi.http: the outgoing-HTTP seam and the log redaction filter."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
import requests

from bambi import http
from tests.factories import make_configuration, run_generation
from tests.images import png_bytes

IMAGE_URL = "https://images.example.net/tmp/abc.png"


# --- request ------------------------------------------------------------------------------------


def test_request_sends_the_bambi_user_agent_and_a_timeout(rsps):
    rsps.get("https://api.example.com/v1/models", json={"data": []})

    http.request("GET", "https://api.example.com/v1/models", timeout=(1.5, 7.0))

    sent = rsps.calls[0].request
    assert sent.headers["User-Agent"] == "Bambi/0.1"
    assert sent.req_kwargs["timeout"] == (1.5, 7.0)


@pytest.mark.django_db
def test_generations_reuse_one_connection_to_the_provider(providers_on_standin, standin, user):
    # Three generations, one after the other, on the stand-in (a real HTTP server): the
    # process keeps its connection to the provider open and sends the next call on it.
    configuration = make_configuration(user, providers_on_standin["openai"])
    before = standin.connections
    for n in range(3):
        run_generation(user, configuration, f"a fawn, take {n}", modelId="gpt-image-1.5")
    assert len(standin.requests) == 3
    assert standin.connections - before == 1


def test_a_provider_cookie_is_never_sent_back(rsps):
    # The connection pool is shared by every user's calls: a cookie the provider sets on one
    # user's answer must not go out with the next call (someone else's key, maybe).
    rsps.get(
        "https://api.example.com/v1/models",
        json={"data": []},
        headers={"Set-Cookie": "__cf_bm=tracking; Domain=api.example.com; Path=/"},
    )
    http.request("GET", "https://api.example.com/v1/models")
    http.request("GET", "https://api.example.com/v1/models")
    assert "Cookie" not in rsps.calls[1].request.headers


def test_request_without_a_timeout_uses_the_short_validation_timeout(rsps):
    rsps.get("https://api.example.com/v1/models", json={})

    http.request("GET", "https://api.example.com/v1/models")

    connect, read = rsps.calls[0].request.req_kwargs["timeout"]
    assert read == http.VALIDATE_READ_TIMEOUT
    assert connect > 0


def test_generate_timeout_reads_the_provider_settings(settings):
    settings.PROVIDER_CONNECT_TIMEOUT = 3.0
    settings.PROVIDER_READ_TIMEOUT = 90.0

    assert http.generate_timeout() == (3.0, 90.0)


@pytest.mark.slow  # a fresh Python process
def test_module_imports_and_answers_timeouts_without_django_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = "from bambi import http; print(http.generate_timeout(), http.download_max_bytes())"

    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout

    assert out.split() == ["(5.0,", "120.0)", str(20 * 1024 * 1024)]


def test_session_never_retries():
    s = http.session()
    for prefix in ("https://", "http://"):
        retries = s.get_adapter(prefix + "example.com").max_retries
        assert retries.total == 0
        assert not retries.read


def test_request_does_not_follow_redirects_so_headers_stay_with_the_provider(rsps):
    rsps.post(
        "https://api.example.com/v1/images/generations",
        status=307,
        headers={"Location": "https://elsewhere.example.org/steal"},
    )
    rsps.post("https://elsewhere.example.org/steal", json={})

    response = http.request(
        "POST",
        "https://api.example.com/v1/images/generations",
        headers={"x-goog-api-key": "AIzaSECRET"},
        json={},
    )

    assert response.status_code == 307
    assert len(rsps.calls) == 1


def test_request_lets_a_read_timeout_through_after_one_attempt(rsps):
    rsps.post("https://api.example.com/x", body=requests.exceptions.ReadTimeout("slow"))

    with pytest.raises(requests.Timeout):
        http.request("POST", "https://api.example.com/x", json={}, timeout=(1, 1))
    assert len(rsps.calls) == 1


# --- download -----------------------------------------------------------------------------------


def test_download_returns_the_bytes_and_content_type(rsps):
    image = png_bytes(4, 4)
    rsps.get(IMAGE_URL, body=image, content_type="image/png")

    data, content_type = http.download(IMAGE_URL)

    assert data == image
    assert content_type == "image/png"
    sent = rsps.calls[0].request
    assert "Authorization" not in sent.headers
    assert sent.headers["User-Agent"] == "Bambi/0.1"
    assert sent.req_kwargs["timeout"][1] == http.DOWNLOAD_READ_TIMEOUT


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://images.example.net/a.png",
        "gopher://images.example.net/",
        "data:image/png;base64,iVBORw0KGgo=",
        "https:///no-host.png",
        "not a url",
    ],
)
def test_download_refuses_anything_but_http_and_https(rsps, url):
    with pytest.raises(http.DownloadError, match="http and https"):
        http.download(url)
    assert len(rsps.calls) == 0


def test_download_stops_when_the_declared_length_is_over_the_cap(rsps):
    rsps.get(IMAGE_URL, body=b"x" * 2000, auto_calculate_content_length=True)

    with pytest.raises(http.DownloadError, match="larger than"):
        http.download(IMAGE_URL, max_bytes=1000)


def test_download_stops_streaming_past_the_cap_when_no_length_is_declared(rsps):
    rsps.get(IMAGE_URL, body=b"x" * 200_000)  # no Content-Length header

    with pytest.raises(http.DownloadError, match="larger than"):
        http.download(IMAGE_URL, max_bytes=100_000)


def test_download_accepts_an_image_exactly_at_the_cap(rsps):
    rsps.get(IMAGE_URL, body=b"x" * 1000)

    data, _ = http.download(IMAGE_URL, max_bytes=1000)

    assert len(data) == 1000


def test_download_follows_a_redirect_without_sending_credentials(rsps):
    image = png_bytes(2, 2)
    rsps.get(IMAGE_URL, status=302, headers={"Location": "https://cdn.example.net/final.png"})
    rsps.get("https://cdn.example.net/final.png", body=image, content_type="image/png")

    data, _ = http.download(IMAGE_URL)

    assert data == image
    assert [c.request.url for c in rsps.calls] == [IMAGE_URL, "https://cdn.example.net/final.png"]
    assert all("Authorization" not in c.request.headers for c in rsps.calls)


def test_download_refuses_a_redirect_to_a_non_http_scheme(rsps):
    rsps.get(IMAGE_URL, status=302, headers={"Location": "file:///etc/passwd"})

    with pytest.raises(http.DownloadError, match="http and https"):
        http.download(IMAGE_URL)


def test_download_gives_up_after_a_few_redirects(rsps):
    rsps.get(IMAGE_URL, status=302, headers={"Location": IMAGE_URL})

    with pytest.raises(http.DownloadError, match="too many"):
        http.download(IMAGE_URL)
    assert len(rsps.calls) == http.MAX_REDIRECTS + 1


@pytest.mark.parametrize("status", [403, 404, 500])
def test_download_refuses_an_error_status(rsps, status):
    rsps.get(IMAGE_URL, status=status, body=b"<html>nope</html>")

    with pytest.raises(http.DownloadError, match=str(status)):
        http.download(IMAGE_URL)


def test_download_wraps_network_errors_without_the_signed_url(rsps):
    signed = IMAGE_URL + "?sig=TOPSECRETSIGNATURE"
    rsps.get(signed, body=requests.exceptions.ReadTimeout(f"read timeout on {signed}"))

    with pytest.raises(http.DownloadError) as caught:
        http.download(signed)
    assert "TOPSECRETSIGNATURE" not in str(caught.value)


def test_download_refuses_an_empty_body(rsps):
    rsps.get(IMAGE_URL, body=b"")

    with pytest.raises(http.DownloadError, match="empty"):
        http.download(IMAGE_URL)


# --- redaction ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-Ab12Cd34Ef56Gh78Ij90KlMnOpQrStUv",
        "sk-abcdefghijklmnopqrstuvwxyz012345",
        "xai-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        "c2VjcmV0LXRva2VuLXRoYXQtaXMtbG9uZy1lbm91Z2g0Mg",
    ],
)
def test_redact_removes_key_shaped_strings(secret):
    text = f"calling provider with {secret} now"

    redacted = http.redact(text)

    assert secret not in redacted
    assert redacted == f"calling provider with {http.REDACTED} now"


def test_redact_removes_bearer_tokens_and_key_parameters():
    text = "Authorization: Bearer short-token-1 url=https://x.test/a?key=abc123&alt=json"

    redacted = http.redact(text)

    assert "short-token-1" not in redacted
    assert "abc123" not in redacted
    assert "alt=json" in redacted


def test_redact_removes_a_known_secret_whatever_its_shape():
    assert http.redact("the key is hunter2!", "hunter2") == f"the key is {http.REDACTED}!"


def test_redact_keeps_uuids_words_and_paths():
    text = (
        "generation 3f2a1b4c-1234-4abc-9def-0123456789ab saved to "
        "images/12/3f2a1b4c-1234-4abc-9def-0123456789ab/0.png (internationalization_is_long)"
    )

    assert http.redact(text) == text


def _record(msg: str, *args: object, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("bambi.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_filter_redacts_a_key_passed_as_a_log_argument():
    key = "sk-proj-Ab12Cd34Ef56Gh78Ij90KlMnOpQrStUv"
    record = _record("provider said %s for key %s", "no", key)

    assert http.RedactSecretsFilter().filter(record) is True

    assert key not in record.getMessage()
    assert record.getMessage() == f"provider said no for key {http.REDACTED}"


def test_filter_redacts_a_key_inside_a_traceback():
    key = "xai-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
    try:
        raise ValueError(f"bad header Bearer {key}")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())

    http.RedactSecretsFilter().filter(record)
    formatted = logging.Formatter().format(record)

    assert "ValueError" in formatted
    assert key not in formatted


def test_logging_through_a_filtered_handler_never_writes_the_key(caplog):
    key = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
    logger = logging.getLogger("bambi.test.redaction")
    http.install_redaction(logging.getLogger())  # caplog's handler sits on the root logger

    logger.warning("headers: %r", {"x-goog-api-key": key})

    assert key not in caplog.text
    assert http.REDACTED in caplog.text


def test_install_redaction_adds_the_filter_once():
    logger = logging.getLogger("bambi.test.install")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        http.install_redaction(logger)
        http.install_redaction(logger)
        assert sum(isinstance(f, http.RedactSecretsFilter) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)
