"""Server-side request forgery: a user's URL never reaches the platform's own network, at
registration, at podcast creation, nor at delivery (after DNS, so rebinding is caught)."""

from __future__ import annotations

import socket

import pytest

from podnex import outbound
from tests.utils import assert_error
from tests.webhooks_app.test_api import URL
from webhooks_app import services, transport
from webhooks_app.models import Webhook, WebhookDelivery, WebhookEvent

FORBIDDEN = [
    "http://127.0.0.1/hook",  # loopback
    "http://127.1/hook",  # loopback, short form
    "http://2130706433/hook",  # loopback, as one integer
    "http://0x7f000001/hook",  # loopback, in hex
    "http://localhost:8000/hook",  # a name for loopback
    "http://api.localhost/hook",  # RFC 6761: *.localhost is loopback
    "http://[::1]/hook",  # IPv6 loopback
    "http://0.0.0.0/hook",  # unspecified (reaches localhost on Linux)
    "http://[::]/hook",  # IPv6 unspecified
    "http://10.0.0.5/hook",  # private
    "http://172.16.3.4/hook",  # private
    "http://192.168.1.1/hook",  # private
    "http://[fd12:3456::1]/hook",  # IPv6 unique local
    "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
    "http://[fe80::1]/hook",  # IPv6 link-local
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://224.0.0.1/hook",  # multicast
    "http://[ff02::1]/hook",  # IPv6 multicast
    "http://240.0.0.1/hook",  # reserved
    "http://255.255.255.255/hook",  # broadcast
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6 loopback
    "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped IPv6 private
    "http://[2002:7f00:1::1]/hook",  # 6to4 wrapping 127.0.0.1
    "http://metadata.google.internal/computeMetadata/v1/",  # internal names
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://files.example.com/x",
    "javascript:alert(1)",
]


@pytest.fixture
def fake_dns(monkeypatch):
    """Answers chosen names from a table, like a hostile DNS server would; anything else
    goes to the real resolver. The table can change between calls (rebinding)."""
    table: dict[str, list[str]] = {}
    calls: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host in table:
            calls.append(host)
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port or 0),
                )
                for ip in table[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    table["calls"] = calls  # type: ignore[assignment]
    return table


@pytest.mark.parametrize("url", FORBIDDEN)
def test_registration_refuses_every_kind_of_forbidden_address(owner_client, url):
    response = owner_client.post(URL, {"url": url}, format="json")
    body = assert_error(response, 400, "validation_error")
    assert "url" in body["details"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_podcast_webhook_url_is_held_to_the_same_rules(owner_client, url):
    response = owner_client.post(
        "/api/v1/podcasts", {"noteContent": "Bees dance.", "webhookUrl": url}, format="json"
    )
    body = assert_error(response, 400, "validation_error")
    assert "webhookUrl" in body["details"]


BAD_PORTS = [
    "https://93.184.216.34:0/hook",
    "https://hooks.example.com:0/hook",
    "https://93.184.216.34:00/hook",
    "https://93.184.216.34:65536/hook",
    "https://93.184.216.34:99999999999/hook",
    "https://93.184.216.34:-1/hook",
]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("url", BAD_PORTS)
def test_a_port_outside_1_to_65535_is_refused_everywhere(
    owner_client, owner, settings, url, allow_private
):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = allow_private
    response = owner_client.post(URL, {"url": url}, format="json")
    assert "url" in assert_error(response, 400, "validation_error")["details"]
    response = owner_client.post(
        "/api/v1/podcasts", {"noteContent": "Bees dance.", "webhookUrl": url}, format="json"
    )
    assert "webhookUrl" in assert_error(response, 400, "validation_error")["details"]
    with pytest.raises(outbound.UnsafeUrl):
        outbound.url_resolve(url)  # and at delivery, for a row stored before this rule


def test_a_public_name_that_resolves_to_loopback_is_refused(owner_client, fake_dns):
    fake_dns["sneaky.example.com"] = ["93.184.216.34", "127.0.0.1"]
    response = owner_client.post(URL, {"url": "https://sneaky.example.com/h"}, format="json")
    body = assert_error(response, 400, "validation_error")
    assert "127.0.0.1" in body["error"]


def test_updating_the_url_is_checked_too(owner_client):
    created = owner_client.post(URL, {"url": "https://hooks.example.com/h"}, format="json")
    response = owner_client.patch(
        f"{URL}/{created.json()['webhook']['id']}", {"url": "http://10.1.1.1/"}, format="json"
    )
    assert_error(response, 400, "validation_error")


def test_delivery_rechecks_after_dns_so_rebinding_is_caught(owner, fake_dns, receiver):
    server = receiver()
    # At registration the name is public...
    fake_dns["rebind.example.com"] = ["93.184.216.34"]
    webhook = services.webhook_create(
        user=owner, url=f"http://rebind.example.com:{server.port}/h", events=["PODCAST_CREATED"]
    )
    # ...and by delivery time it points at our own machine.
    fake_dns["rebind.example.com"] = ["127.0.0.1"]
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event=WebhookEvent.PODCAST_CREATED,
        payload={"type": "x"},
        next_attempt_at="2000-01-01T00:00:00Z",
    )
    result = services.delivery_attempt(delivery_id=delivery.id)
    assert result.status == 0 and result.last_error.startswith("Refused:")
    assert "127.0.0.1" in result.last_error
    assert server.requests == []


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(
    owner, fake_dns, receiver, allow_loopback
):
    server = receiver()
    fake_dns["hooks.test"] = ["127.0.0.1"]
    outcome = transport.post(
        url=f"http://hooks.test:{server.port}/h", body=b"{}", headers={"webhook-id": "msg_1"}
    )
    assert outcome.ok, outcome
    assert fake_dns["calls"] == ["hooks.test"]  # resolved once, by the check
    (request,) = server.requests
    assert request.headers["host"] == f"hooks.test:{server.port}"


def test_redirects_are_not_followed(owner, receiver, allow_loopback):
    target = receiver()
    redirector = receiver(statuses=[302], headers={"Location": target.url()})
    outcome = transport.post(url=redirector.url(), body=b"{}", headers={})
    assert not outcome.ok and outcome.status == 302
    assert target.requests == []


def test_the_setting_lets_the_test_suite_register_its_loopback_receiver(owner_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    response = owner_client.post(URL, {"url": "http://127.0.0.1:9/h"}, format="json")
    assert response.status_code == 201
    # Schemes stay checked even then.
    assert_error(
        owner_client.post(URL, {"url": "file:///etc/passwd"}, format="json"),
        400,
        "validation_error",
    )
