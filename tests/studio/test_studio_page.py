"""The studio page in a real headless Chromium (Debian's chromium + chromium-driver, driven
by Selenium) against a live server and a real Celery worker: field-by-field sign-up errors,
the demo login, the e-mail confirmation link, an episode listed while it is generated, then
played, downloadable and transcribed. Screenshots go to var/screenshots/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from notifications.models import NotificationPreference
from podcasts.models import Podcast
from tests.conftest import need_server
from tests.factories import SAMPLE_NOTES

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    need_server("Debian's chromium and chromium-driver", bool(chromium and driver_path))
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.implicitly_wait(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, timeout=30):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def text_of(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def shot(driver, name: str) -> Path:
    path = SCREENSHOTS / f"studio-{name}.png"
    driver.save_screenshot(str(path))
    return path


def fill(driver, element_id: str, value: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


@pytest.mark.django_db(transaction=True)
def test_a_stranger_signs_up_and_makes_an_episode_in_the_browser(
    live_server, celery_worker, browser, settings
):
    settings.PUBLIC_BASE_URL = live_server.url  # download links point at this server
    browser.get(live_server.url)
    wait_for(browser, ec.visibility_of_element_located((By.ID, "auth")))
    demo = text_of(browser, "#demo-login")
    assert settings.DEMO_USER_EMAIL in demo and settings.DEMO_USER_PASSWORD in demo
    browser.find_element(By.ID, "use-demo").click()
    assert browser.find_element(By.ID, "email").get_attribute("value") == settings.DEMO_USER_EMAIL

    # Bad input: each message stands under its own field.
    fill(browser, "email", "not-an-address")
    fill(browser, "password", "123")
    browser.find_element(By.ID, "signup").click()
    wait_for(browser, lambda d: text_of(d, '[data-error-for="email"]'))
    assert "valid email" in text_of(browser, '[data-error-for="email"]').lower()
    assert text_of(browser, "#auth-error") == ""  # nothing generic when a field is named
    fill(browser, "email", "stranger@example.com")
    browser.find_element(By.ID, "signup").click()
    wait_for(browser, lambda d: text_of(d, '[data-error-for="email"]') == "")
    assert "password" in text_of(browser, '[data-error-for="password"]').lower()
    shot(browser, "1-signup-errors")

    fill(browser, "password", "a-Long-enough-Passw0rd")
    browser.find_element(By.ID, "signup").click()
    wait_for(browser, ec.visibility_of_element_located((By.ID, "app")))
    assert "stranger@example.com" in text_of(browser, "#who")
    assert "confirmation link" in text_of(browser, "#verify-note")
    wait_for(browser, lambda d: "No episodes yet." in text_of(d, "#list"))

    fill(browser, "title", "All about bees")
    browser.find_element(By.ID, "notes").send_keys(SAMPLE_NOTES)
    browser.find_element(By.ID, "generate").click()
    # While it is generated the list shows it, never "No episodes yet."
    wait_for(browser, lambda d: "All about bees" in text_of(d, "#list"))
    assert "No episodes yet." not in text_of(browser, "#list")
    listed = browser.find_element(By.CSS_SELECTOR, "#list .episode").get_attribute("data-status")
    assert listed in ("queued", "processing", "completed")
    shot(browser, "2-generating")

    wait_for(browser, ec.visibility_of_element_located((By.ID, "player")), timeout=240)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript .seg"))
    download = browser.find_element(By.ID, "download")
    href = download.get_attribute("href")
    assert "/media/" in href or "download" in href, href
    assert download.get_attribute("download").endswith(".mp3")
    assert browser.find_element(By.ID, "audio").get_attribute("src") == href
    assert "completed" in text_of(browser, "#list")
    wait_for(
        browser, lambda d: d.execute_script("return document.getElementById('audio').duration > 1")
    )
    shot(browser, "3-completed")

    # The podcast's warnings (the sample notes are too thin for 3-5 minutes) are shown.
    podcast = Podcast.objects.get()
    assert podcast.warnings, "the thin sample notes get a length warning"
    shown = browser.find_elements(By.CSS_SELECTOR, "#warnings .warning")
    assert [w.get_attribute("data-code") for w in shown] == [w["code"] for w in podcast.warnings]
    assert [w.text for w in shown] == [w["message"] for w in podcast.warnings]

    # The e-mail switches: one click turns a kind off for this user.
    browser.find_element(By.CSS_SELECTOR, "#mail-switches summary").click()
    box = browser.find_element(By.CSS_SELECTOR, '[data-switch="usageWarnings"]')
    wait_for(browser, lambda d: box.is_selected())
    box.click()
    wait_for(browser, lambda d: text_of(d, "#switches-saved") == "Saved.")
    assert not NotificationPreference.objects.get(user__email="stranger@example.com").usage_warnings

    # A notification mail's link (/?podcast=<id>) opens that episode.
    browser.get(f"{live_server.url}/?podcast={podcast.id}")
    wait_for(browser, ec.visibility_of_element_located((By.ID, "player")))
    assert text_of(browser, "#job-title") == "All about bees"
    assert browser.current_url.rstrip("/") == live_server.url.rstrip("/")

    # The confirmation e-mail's link opens this page, which confirms the address.
    body = next(m.body for m in mail.outbox if "stranger@example.com" in m.to)
    link = re.search(r"https?://\S+/account/verify-email/\S+", body).group(0)
    browser.get(live_server.url + "/account/" + link.split("/account/", 1)[1])
    wait_for(browser, lambda d: "confirmed" in text_of(d, "#account-link-message"))
    assert browser.current_url.rstrip("/") == live_server.url.rstrip("/")
    shot(browser, "4-confirmed")
