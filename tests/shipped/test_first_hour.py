"""A stranger's first hour on the shipped defaults (`make run` in a fresh copy, see
conftest.py): sign up, confirm the e-mail from the printed mail, log in, reset the password,
create an episode and download it, read the docs offline, open the admin as the demo user,
and see one rate-limit count per client whichever web process answers."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlparse

import pytest
import requests

pytestmark = pytest.mark.slow

AUTH = "/api/auth/browser/v1"
PASSWORD = "first-Hour-passw0rd"
NEW_PASSWORD = "second-Hour-passw0rd"
EMAIL = "stranger@example.com"
NOTES = """# Honey bees

Honey bees live in colonies of tens of thousands of workers and one queen.
A forager that finds flowers returns to the hive and performs the waggle dance:
the angle of the dance shows the direction of the flowers relative to the sun,
and the length of the waggle run tells the distance.
Bees store nectar as honey, which they make by evaporating water from it.
"""


def browser(stack) -> requests.Session:
    session = requests.Session()
    session.get(f"{stack.base}{AUTH}/config", timeout=10)
    return session


def post(session: requests.Session, url: str, body: dict) -> requests.Response:
    csrf = session.cookies.get("csrftoken", "")
    return session.post(url, json=body, headers={"X-CSRFToken": csrf}, timeout=30)


def log_in(stack, email: str, password: str) -> requests.Session:
    session = browser(stack)
    response = post(
        session, f"{stack.base}{AUTH}/auth/login", {"email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return session


def test_a_stranger_signs_up_confirms_the_mail_and_logs_in(stack):
    session = browser(stack)
    printed = len(stack.log())
    signup = post(
        session, f"{stack.base}{AUTH}/auth/signup", {"email": EMAIL, "password": PASSWORD}
    )
    assert signup.status_code == 200, signup.text[:2000]
    assert signup.json()["data"]["user"]["email"] == EMAIL

    # The confirmation mail is printed by `make run` and links to the studio page here.
    link = stack.mailed_link(r"/account/verify-email/[^\s]+", after=printed)
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "PodNex" in page.text
    key = unquote(urlparse(link).path.rsplit("/", 1)[1])
    verified = post(session, f"{stack.base}{AUTH}/auth/email/verify", {"key": key})
    assert verified.status_code == 200, verified.text
    emails = session.get(f"{stack.base}{AUTH}/account/email", timeout=10).json()["data"]
    assert [(e["email"], e["verified"]) for e in emails] == [(EMAIL, True)]

    session.delete(
        f"{stack.base}{AUTH}/auth/session",
        headers={"X-CSRFToken": session.cookies.get("csrftoken", "")},
        timeout=10,
    )
    assert session.get(f"{stack.base}/api/v1/user/profile", timeout=10).status_code in (401, 403)
    log_in(stack, EMAIL, PASSWORD)

    wrong = post(
        browser(stack), f"{stack.base}{AUTH}/auth/login", {"email": EMAIL, "password": "nope"}
    )
    assert wrong.status_code == 400


def test_a_forgotten_password_is_reset_through_the_mailed_link(stack):
    session = browser(stack)
    printed = len(stack.log())
    request = post(session, f"{stack.base}{AUTH}/auth/password/request", {"email": EMAIL})
    assert request.status_code == 200, request.text[:2000]

    link = stack.mailed_link(r"/account/password/reset/key/[^\s]+", after=printed)
    assert requests.get(link, timeout=10).status_code == 200
    key = unquote(urlparse(link).path.rsplit("/", 1)[1])
    reset = post(
        session, f"{stack.base}{AUTH}/auth/password/reset", {"key": key, "password": NEW_PASSWORD}
    )
    assert reset.status_code in (200, 401), reset.text  # 401: done, now log in
    log_in(stack, EMAIL, NEW_PASSWORD)
    old = post(
        browser(stack), f"{stack.base}{AUTH}/auth/login", {"email": EMAIL, "password": PASSWORD}
    )
    assert old.status_code == 400


def test_one_rate_limit_count_per_client_across_the_web_processes(stack):
    session = log_in(stack, "demo@podnex.local", "podnex-demo-1234")
    remaining = []
    for _ in range(16):
        # A new connection each time, so that the two uvicorn processes both answer.
        response = session.get(
            f"{stack.base}/api/v1/podcasts", headers={"Connection": "close"}, timeout=10
        )
        assert response.status_code == 200
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    steps = {before - after for before, after in zip(remaining, remaining[1:])}
    assert steps == {1}, remaining


def test_an_episode_is_created_generated_and_downloaded(stack):
    session = log_in(stack, EMAIL, NEW_PASSWORD)
    created = post(
        session,
        f"{stack.base}/api/v1/podcasts",
        {"noteContent": NOTES, "duration": "short", "title": "Honey bees"},
    )
    assert created.status_code == 202, created.text
    podcast_id = created.json()["podcast"]["id"]

    listed = session.get(f"{stack.base}/api/v1/podcasts", timeout=10).json()["podcasts"]
    assert [p["id"] for p in listed] == [podcast_id]

    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        status = session.get(f"{stack.base}/api/v1/podcasts/{podcast_id}/status", timeout=10)
        podcast = status.json()["podcast"]
        if podcast["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(1)
    assert podcast["status"] == "completed", (podcast, stack.log()[-3000:])

    link = session.get(f"{stack.base}/api/v1/podcasts/{podcast_id}/download", timeout=10).json()
    assert link["url"].startswith(stack.base), link  # make run points links at its own port
    audio = requests.get(link["url"], timeout=30)
    assert audio.status_code == 200
    assert audio.headers["Content-Type"] == "audio/mpeg"
    assert audio.content[:3] == b"ID3" or audio.content[0] == 0xFF
    detail = session.get(f"{stack.base}/api/v1/podcasts/{podcast_id}", timeout=10).json()
    assert len(audio.content) == detail["podcast"]["audioSize"]


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href"):
            if attrs.get(name) and (
                tag in ("script", "img") or attrs.get("rel") in ("stylesheet", "icon")
            ):
                self.urls.append(attrs[name])


@pytest.mark.parametrize("page", ["/api/docs/", "/api/auth/openapi.html"])
def test_the_docs_load_only_local_assets_that_answer(stack, page):
    response = requests.get(f"{stack.base}{page}", timeout=10)
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.text)
    assert parser.urls, "the page loads its viewer"
    for url in parser.urls:
        full = urljoin(f"{stack.base}{page}", url)
        assert full.startswith(stack.base + "/static/"), f"{url} is not served from here"
        assert requests.get(full, timeout=10).status_code == 200, url
    assert not re.search(r"https?://(?!127\.0\.0\.1)", "".join(parser.urls))


def test_the_demo_user_printed_by_make_run_opens_the_admin(stack):
    assert "demo@podnex.local" in stack.log()
    session = log_in(stack, "demo@podnex.local", "podnex-demo-1234")
    admin = session.get(f"{stack.base}/admin/", timeout=10, allow_redirects=False)
    assert admin.status_code == 200
    assert "PodNex staff" in admin.text  # the admin index, not its login form
    studio = requests.get(f"{stack.base}/", timeout=10).text
    assert "demo@podnex.local" in studio  # the demo login is shown in development
