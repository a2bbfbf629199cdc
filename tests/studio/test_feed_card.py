"""The studio page's feed card and chapter list in a real headless Chromium (Debian's
chromium + chromium-driver through Selenium) against a live server: the owner sees the
secret feed URL, copies it, and jumps through the episode by its chapters."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from podcasts import storage
from podcasts.models import PodcastStatus
from tests.conftest import need_server
from tests.factories import PodcastFactory, UserFactory
from tests.media_samples import tone

PASSWORD = "correct-horse-battery-staple"
HIVES = "How a hive works"
SEGMENTS = [
    {"speaker": "host", "text": "Welcome.", "start": 0.3, "end": 2.0, "section": "Introduction"},
    {"speaker": "guest", "text": "Hello.", "start": 2.5, "end": 4.0, "section": "Introduction"},
    {"speaker": "host", "text": "Hives?", "start": 4.5, "end": 6.0, "section": HIVES},
    {"speaker": "guest", "text": "A queen.", "start": 6.5, "end": 9.5, "section": HIVES},
]  # fmt: skip


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    need_server("Debian's chromium and chromium-driver", bool(chromium and driver_path))
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400"):
        options.add_argument(flag)
    options.add_argument("--autoplay-policy=no-user-gesture-required")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, timeout=30):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


@pytest.mark.django_db(transaction=True)
def test_the_studio_shows_the_feed_url_and_the_chapters(live_server, browser, settings):
    settings.PUBLIC_BASE_URL = live_server.url  # links point at this server
    owner = UserFactory(email="studio-feed@example.com", password=PASSWORD)
    mp3 = tone(10.0, "mp3")
    podcast = PodcastFactory(
        user=owner,
        title="All about bees",
        status=PodcastStatus.COMPLETED,
        audio_duration=10.0,
        audio_size=len(mp3),
        transcript=SEGMENTS,
        completed_at=timezone.now() - timedelta(minutes=1),
    )
    podcast.audio_url = storage.audio_upload(
        key=storage.audio_key(user_id=owner.id, podcast_id=podcast.id), data=mp3
    )
    podcast.save()

    browser.get(live_server.url)
    wait_for(browser, lambda d: d.find_element(By.ID, "email").is_displayed())
    browser.find_element(By.ID, "email").send_keys(owner.email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()

    feed_url = wait_for(
        browser,
        lambda d: (v := d.find_element(By.ID, "feed-url").get_attribute("value")) and v,
    )
    assert feed_url.startswith(f"{live_server.url}/feeds/") and feed_url.endswith(".xml")
    assert requests.get(feed_url, timeout=10).status_code == 200, "the URL shown is the feed"
    browser.find_element(By.ID, "feed-copy").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "feed-copied").text == "Copied")

    wait_for(
        browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'#list a[data-id="{podcast.id}"]')
    )
    browser.find_element(By.CSS_SELECTOR, f'#list a[data-id="{podcast.id}"]').click()
    items = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#chapters li a") or False)
    assert [a.text for a in items] == ["Introduction", "How a hive works"]
    items[1].click()
    position = wait_for(
        browser,
        lambda d: (
            (t := d.execute_script("return document.getElementById('audio').currentTime")) >= 4.4
            and t
        ),
    )
    assert position < 9.0, "the player jumped to the second chapter's start"
