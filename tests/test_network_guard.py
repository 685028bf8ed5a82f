"""The network guard (bambi.http): Bambi never calls into a private network for a provider.

A real HTTP server on loopback plays an internal service (a metadata endpoint, an admin
panel). The provider stand-in, allowed through PROVIDER_PRIVATE_HOSTS as an operator would,
answers a generation with that service's address in every spelling an attacker would try; the
internal service must receive zero requests, the generation fails cleanly and nothing is
charged or stored. A tripwire on `socket.connect` makes sure no test here ever opens a
connection outside loopback, even if the guard regressed (169.254.169.254 is really refused,
never tried).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
import requests

from accounts.models import User
from bambi import http
from byok.models import ImageModel, Provider
from generations.models import Image, ImageGeneration
from tests.factories import make_configuration
from tests.images import media_files, png_bytes
from tests.standin import StandIn

pytestmark = pytest.mark.django_db


class InternalService:
    """An HTTP server on loopback (IPv4 and IPv6) that counts every request it receives and
    answers each with a real PNG, so a fetch that got through would really store a picture."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ipv6: bool = True) -> None:
        self.hits: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                with service._lock:
                    service.hits.append((self.command, self.path))
                body = png_bytes(16, 16)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        class V6Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        self.servers = [ThreadingHTTPServer((host, port), Handler)]
        self.port = self.servers[0].server_address[1]
        if ipv6:
            self.servers.append(V6Server(("::1", 0), Handler))
            self.port6 = self.servers[1].server_address[1]
        for server in self.servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def internal() -> Iterator[InternalService]:
    service = InternalService()
    yield service
    service.close()


@pytest.fixture
def tripwire(monkeypatch) -> list:
    """Refuse (and record) any TCP connection this process tries outside loopback."""
    attempts: list = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def outside(address) -> bool:
        if not isinstance(address, tuple):
            return False  # unix sockets
        try:
            return not ipaddress.ip_address(address[0].split("%")[0]).is_loopback
        except ValueError:
            return True

    def connect(sock, address):
        if outside(address):
            attempts.append(address)
            raise ConnectionRefusedError(f"tripwire: refused a connection to {address}")
        return real_connect(sock, address)

    def connect_ex(sock, address):
        if outside(address):
            attempts.append(address)
            return 111
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


def _private_forms(internal: InternalService, standin: StandIn) -> dict[str, str]:
    direct = f"http://127.0.0.1:{internal.port}/latest/meta-data/"
    return {
        "loopback": direct,
        "localhost": f"http://localhost:{internal.port}/latest/meta-data/",
        "ipv6-loopback": f"http://[::1]:{internal.port6}/latest/meta-data/",
        "decimal": f"http://2130706433:{internal.port}/latest/meta-data/",
        "hex": f"http://0x7f000001:{internal.port}/latest/meta-data/",
        "short": f"http://127.1:{internal.port}/latest/meta-data/",
        "unspecified": f"http://0.0.0.0:{internal.port}/latest/meta-data/",
        "ipv4-mapped": f"http://[::ffff:127.0.0.1]:{internal.port6}/latest/meta-data/",
        "redirect": f"{standin.url}/redirect?to={quote(direct, safe='')}",
        "metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "private": "http://10.0.0.7/admin",
        "cgnat": "http://100.64.0.1/",
    }


FORMS = [
    "loopback",
    "localhost",
    "ipv6-loopback",
    "decimal",
    "hex",
    "short",
    "unspecified",
    "ipv4-mapped",
    "redirect",
    "metadata",
    "private",
    "cgnat",
]


@pytest.mark.parametrize("form", FORMS)
def test_an_image_url_on_a_private_network_is_never_fetched(
    form, client, user, catalogue, standin, internal, tripwire
):
    Provider.objects.filter(slug="openai").update(api_base_url=standin.url)
    configuration = make_configuration(user, Provider.objects.get(slug="openai"))
    model = ImageModel.objects.get(provider__slug="openai", model_id="gpt-image-1.5")
    standin.answer_url = _private_forms(internal, standin)[form]
    client.force_login(user)

    response = client.post(
        "/api/generations/",
        {
            "configId": str(configuration.pk),
            "prompt": "a fawn",
            "parameters": {"modelId": str(model.pk), "count": 1, "size": "1024x1024"},
        },
        content_type="application/json",
    )

    assert response.status_code == 502
    assert "private network" in response.json()["error"]
    assert internal.hits == []
    assert tripwire == []
    assert standin.count("openai.generate") == 1
    assert User.objects.get(pk=user.pk).usage_count == 0  # nothing charged
    generation = ImageGeneration.objects.get(user=user)
    assert generation.status == ImageGeneration.Status.FAILED
    assert not Image.objects.exists()
    assert media_files() == []


def test_the_redirect_hop_is_what_gets_refused(standin, internal, tripwire):
    target = f"http://127.0.0.1:{internal.port}/secret"

    with pytest.raises(http.PrivateImageAddress):
        http.download(f"{standin.url}/redirect?to={quote(target, safe='')}")

    assert standin.count("redirect") == 1  # the allowed first hop was fetched
    assert internal.hits == []


def test_a_provider_base_url_on_a_private_network_is_never_called(
    client, user, catalogue, internal, tripwire
):
    Provider.objects.filter(slug="openai").update(api_base_url=f"http://127.0.0.1:{internal.port}")
    provider = Provider.objects.get(slug="openai")
    configuration = make_configuration(user, provider)
    model = ImageModel.objects.get(provider__slug="openai", model_id="gpt-image-1.5")
    client.force_login(user)

    checked = client.post(
        "/api/validate-api-key/",
        {"providerId": str(provider.pk), "apiKey": "sk-proj-probe-0123456789abcdef"},
        content_type="application/json",
    )
    generated = client.post(
        "/api/generations/",
        {
            "configId": str(configuration.pk),
            "prompt": "a fawn",
            "parameters": {"modelId": str(model.pk), "count": 1, "size": "1024x1024"},
        },
        content_type="application/json",
    )

    assert checked.status_code == 502
    assert generated.status_code == 502
    assert "private network" in generated.json()["error"]
    assert internal.hits == []
    assert User.objects.get(pk=user.pk).usage_count == 0


def test_an_allowed_private_host_is_reached(settings, internal, tripwire):
    settings.PROVIDER_PRIVATE_HOSTS = [f"localhost:{internal.port}", f"[::1]:{internal.port6}"]

    data, content_type = http.download(f"http://localhost:{internal.port}/a.png")
    http.download(f"http://[::1]:{internal.port6}/b.png")

    assert data.startswith(b"\x89PNG")
    assert content_type == "image/png"
    assert internal.hits == [("GET", "/a.png"), ("GET", "/b.png")]
    # The pair is host *and* port: the same host on another port stays refused.
    with pytest.raises(http.PrivateImageAddress):
        http.download(f"http://localhost:{internal.port + 1}/a.png")


def test_the_connection_goes_to_the_address_that_was_checked(settings, monkeypatch, tripwire):
    """DNS rebinding: the name answers one address to the check and another one later. The
    connection must use the first answer: no second lookup happens between check and connect."""
    checked = InternalService("127.0.0.1", ipv6=False)
    # Where a rebinding resolver would send a second lookup: another loopback address.
    rebound = InternalService("127.0.0.2", port=checked.port, ipv6=False)
    lookups: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "rebinding.test":
            address = "127.0.0.1" if not lookups else "127.0.0.2"
            lookups.append(address)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    settings.PROVIDER_PRIVATE_HOSTS = [f"rebinding.test:{checked.port}"]
    try:
        response = http.request("GET", f"http://rebinding.test:{checked.port}/pinned")
    finally:
        checked.close()
        rebound.close()

    assert response.status_code == 200
    assert checked.hits == [("GET", "/pinned")]
    assert rebound.hits == []
    assert lookups == ["127.0.0.1"]  # one lookup, the one that was checked


def test_a_name_answering_a_public_and_a_private_address_is_refused(monkeypatch, tripwire):
    real = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):
        if host == "mixed.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", mixed)

    with pytest.raises(http.PrivateAddressRefused):
        http.request("GET", "http://mixed.test/")
    assert tripwire == []


def test_a_name_that_does_not_resolve_is_a_network_error_not_a_pass(tripwire):
    with pytest.raises(requests.ConnectionError):
        http.request("GET", "http://does-not-exist.invalid/")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "192.0.2.10",
        "198.18.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00::2",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::1",
        "2001:db8::1",
    ],
)
def test_private_and_special_addresses_are_not_public(address):
    assert not http.is_public_address(address)


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "104.18.7.192", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
)
def test_public_addresses_are_public(address):
    assert http.is_public_address(address)
