"""Reading URL sources from a real HTTP site on loopback (OUTBOUND_ALLOW_PRIVATE_URLS on, as
a self-hosted intranet would), and the SSRF guard with it off: every redirect re-checked,
size and time caps, readable errors. Each case runs the extraction service the worker runs.
"""

from __future__ import annotations

import ipaddress

import pytest

from podnex import outbound
from sources import services
from sources.models import Source, SourceStatus, SourceType
from tests.sources import documents as docs
from tests.sources.site import Page, Site


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


@pytest.fixture
def allow_private(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # the new name alone must do it


@pytest.fixture(scope="module")
def text() -> docs.Text:
    return docs.real_text()


def read(owner, url: str) -> Source:
    source = Source.objects.create(user=owner, type=SourceType.URL, url=url)
    return services.source_extract(source_id=source.id)


def test_an_article_page_is_read_without_its_furniture(owner, site, allow_private, text):
    site.routes["/post"] = Page(docs.make_html_page(text).encode())
    source = read(owner, site.url("/post"))
    assert source.status == SourceStatus.READY, source.error
    assert source.title == text.title
    assert source.content_type == "text/html"
    assert "cookies" not in source.text and "Copyright" not in source.text
    assert " ".join(text.sections[0][1][0].split()[:6]) in " ".join(source.text.split())


def test_a_pdf_and_a_docx_behind_urls_are_read_by_their_bytes(owner, site, allow_private, text):
    # Servers mislabel files: the bytes decide.
    site.routes["/paper"] = Page(docs.make_pdf(text), content_type="application/octet-stream")
    site.routes["/doc.docx"] = Page(docs.make_docx(text), content_type="text/plain")
    pdf = read(owner, site.url("/paper"))
    assert pdf.status == SourceStatus.READY, pdf.error
    assert pdf.content_type == "application/pdf"
    word = read(owner, site.url("/doc.docx"))
    assert word.status == SourceStatus.READY, word.error
    assert word.content_type.endswith("wordprocessingml.document")


def test_redirects_are_followed_up_to_five(owner, site, allow_private, text):
    site.routes["/final"] = Page(docs.make_html_page(text).encode())
    for hop in range(5):
        target = "/final" if hop == 4 else f"/hop{hop + 1}"
        site.routes[f"/hop{hop}"] = Page(status=302, headers={"Location": target})
    source = read(owner, site.url("/hop0"))
    assert source.status == SourceStatus.READY, source.error
    assert site.hits == [f"/hop{i}" for i in range(5)] + ["/final"]


def test_a_sixth_redirect_fails(owner, site, allow_private):
    for hop in range(7):
        site.routes[f"/r{hop}"] = Page(status=301, headers={"Location": f"/r{hop + 1}"})
    source = read(owner, site.url("/r0"))
    assert source.status == SourceStatus.FAILED
    assert "Too many redirects" in source.error


@pytest.mark.parametrize(
    "status,words",
    [
        (404, "not found (HTTP 404"),
        (403, "login or a subscription"),
        (402, "paywall"),
        (500, "The site had an error (HTTP 500"),
        (429, "limiting requests"),
    ],
)
def test_error_pages_fail_with_a_reason(owner, site, allow_private, status, words):
    site.routes["/x"] = Page(b"<html><body><p>Nope</p></body></html>", status=status)
    source = read(owner, site.url("/x"))
    assert source.status == SourceStatus.FAILED
    assert words in source.error


def test_non_text_content_fails_naming_it(owner, site, allow_private):
    site.routes["/logo"] = Page(b"\x89PNG\r\n\x1a\n" + bytes(500), content_type="image/png")
    source = read(owner, site.url("/logo"))
    assert source.status == SourceStatus.FAILED
    assert "does not point to a readable document (image/png)" in source.error


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><head><title>Read more</title></head><body><nav>Home</nav>"
        b"<div class='paywall'>Subscribe to continue reading</div></body></html>",
    ],
)
def test_empty_and_paywalled_pages_fail_as_unreadable(owner, site, allow_private, body):
    site.routes["/story"] = Page(body)
    source = read(owner, site.url("/story"))
    assert source.status == SourceStatus.FAILED
    assert "empty" in source.error or "paywall" in source.error


def test_the_size_cap_holds_while_streaming(owner, site, allow_private, settings):
    settings.SOURCE_MAX_BYTES = 100_000
    sent = []

    def endless():  # a gigabyte, unless the reader hangs up first
        for _ in range(100_000):
            sent.append(1)
            yield b"<p>" + b"bees " * 2000 + b"</p>"

    site.routes["/endless"] = Page(endless())  # chunked: no Content-Length to go by
    source = read(owner, site.url("/endless"))
    assert source.status == SourceStatus.FAILED
    assert "larger than the 100000 bytes limit" in source.error
    # The reader hung up: the server's writes (a few MB sit in socket buffers) stopped far
    # short of the gigabyte.
    assert len(sent) < 5_000


def test_a_declared_size_over_the_cap_is_refused_before_reading(
    owner, site, allow_private, settings
):
    settings.SOURCE_MAX_BYTES = 10_000
    site.routes["/big"] = Page(b"x" * 50_000)
    assert "larger than" in read(owner, site.url("/big")).error


def test_a_gzip_bomb_is_counted_after_decompression(owner, site, allow_private, settings):
    settings.SOURCE_MAX_BYTES = 1_000_000
    site.routes["/bomb"] = Page(b"<p>" + b" " * 20_000_000 + b"</p>", gzip=True)
    source = read(owner, site.url("/bomb"))
    assert source.status == SourceStatus.FAILED and "larger than" in source.error


def test_the_time_cap_holds(owner, site, allow_private, settings):
    settings.SOURCE_FETCH_TIMEOUT = 1.0
    site.routes["/slow"] = Page(b"<p>late</p>", delay=3)
    source = read(owner, site.url("/slow"))
    assert source.status == SourceStatus.FAILED
    assert "took too long" in source.error


def test_loopback_is_refused_when_private_urls_are_off(owner, site, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    site.routes["/"] = Page(b"<p>secret admin page</p>")
    source = read(owner, site.url("/"))
    assert source.status == SourceStatus.FAILED
    assert source.error.startswith("Refused:") and "127.0.0.1" in source.error
    assert site.hits == []  # never connected


def test_every_redirect_is_checked_again(owner, site, settings, monkeypatch):
    """The site plays a public server (its address counts as public here); its redirect
    to the cloud metadata address must be refused before any connection to it."""
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    real = outbound.address_is_forbidden
    loopback = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(outbound, "address_is_forbidden", lambda ip: ip != loopback and real(ip))
    site.routes["/go"] = Page(
        status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    source = read(owner, site.url("/go"))
    assert source.status == SourceStatus.FAILED
    assert "169.254.169.254" in source.error and source.error.startswith("Refused:")
    assert site.hits == ["/go"]


def test_webhooks_still_honour_the_old_setting_name(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert outbound.url_check("http://127.0.0.1:9/hook")


def test_a_name_that_does_not_resolve_fails_saying_so(owner):
    # .invalid never resolves (RFC 6761): what every URL looks like with no network.
    source = read(owner, "https://no-such-host.invalid/article")
    assert source.status == SourceStatus.FAILED
    assert source.error.startswith("Cannot reach the site: Cannot resolve no-such-host.invalid")
