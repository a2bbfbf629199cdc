"""Idempotency-Key on creating POSTs: a retried request creates nothing more."""

import pytest
from django.utils import timezone

from idempotency.models import IdempotencyKey
from idempotency.services import keys_purge_expired
from podcasts.models import Podcast, PodcastJob, PodcastStatus
from tests.factories import SAMPLE_NOTES, PodcastFactory
from tests.utils import assert_error
from webhooks_app.models import Webhook

URL = "/api/v1/podcasts"


def post(client, key, data=None, url=URL):
    data = {"noteContent": SAMPLE_NOTES} if data is None else data
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_same_key_and_body_returns_the_first_answer_and_creates_nothing(owner_client):
    first = post(owner_client, "key-1")
    assert first.status_code == 202, first.content
    again = post(owner_client, "key-1")
    assert again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Podcast.objects.count() == 1 and PodcastJob.objects.count() == 1


def test_key_order_and_spacing_of_the_body_do_not_make_it_another_request(owner_client):
    body = '{"noteContent": "Bees dance.", "duration": "short"}'
    other = '{ "duration":"short","noteContent":   "Bees dance."}\n'
    for raw in (body, other):
        response = owner_client.generic(
            "POST", URL, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert response.status_code == 202, response.content
    assert Podcast.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(owner_client):
    assert post(owner_client, "key-2").status_code == 202
    response = post(owner_client, "key-2", {"noteContent": "Something else entirely."})
    assert_error(response, 422, "idempotency_key_mismatch")
    assert Podcast.objects.count() == 1


def test_the_same_key_on_another_route_is_a_422(owner_client):
    assert post(owner_client, "key-3").status_code == 202
    response = post(
        owner_client, "key-3", {"url": "https://example.com/h", "events": []}, "/api/v1/webhooks"
    )
    assert_error(response, 422, "idempotency_key_mismatch")


def test_requests_without_a_key_are_not_deduplicated(owner_client):
    for _ in range(2):
        assert (
            owner_client.post(URL, {"noteContent": SAMPLE_NOTES}, format="json").status_code == 202
        )
    assert Podcast.objects.count() == 2


def test_keys_belong_to_their_user(owner_client, other_client):
    assert post(owner_client, "shared").status_code == 202
    response = post(other_client, "shared")
    assert response.status_code == 202 and "Idempotent-Replayed" not in response
    assert Podcast.objects.count() == 2


def test_a_refused_request_stores_nothing_and_the_key_can_be_used_again(owner_client):
    assert_error(post(owner_client, "key-4", {"noteContent": ""}), 400, "validation_error")
    assert not IdempotencyKey.objects.exists()
    assert post(owner_client, "key-4").status_code == 202


def test_a_key_older_than_a_day_starts_afresh(owner_client, settings):
    assert post(owner_client, "key-5").status_code == 202
    IdempotencyKey.objects.update(
        created_at=timezone.now() - timezone.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL + 1)
    )
    response = post(owner_client, "key-5")
    assert response.status_code == 202 and "Idempotent-Replayed" not in response
    assert Podcast.objects.count() == 2


def test_the_purge_forgets_only_expired_keys(owner_client, settings):
    post(owner_client, "old"), post(owner_client, "new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timezone.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL + 1)
    )
    assert keys_purge_expired() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400(owner_client, key):
    response = owner_client.post(
        URL,
        {"noteContent": SAMPLE_NOTES},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )
    assert_error(response, 400, "invalid_idempotency_key")
    assert not Podcast.objects.exists()


def test_webhook_creation_honours_the_key(owner_client):
    data = {"url": "https://example.com/hook", "events": ["podcast.completed"]}
    first = post(owner_client, "wh", data, "/api/v1/webhooks")
    assert first.status_code == 201, first.content
    again = post(owner_client, "wh", data, "/api/v1/webhooks")
    assert again.json() == first.json()
    assert Webhook.objects.count() == 1


def test_retry_honours_the_key(owner_client, owner):
    podcast = PodcastFactory(user=owner, status=PodcastStatus.FAILED)
    url = f"/api/v1/podcasts/{podcast.id}/retry"
    first = owner_client.post(url, HTTP_IDEMPOTENCY_KEY="r")
    assert first.status_code == 202, first.content
    again = owner_client.post(url, HTTP_IDEMPOTENCY_KEY="r")
    assert again.status_code == 202 and again.json() == first.json()
    assert PodcastJob.objects.filter(podcast=podcast).count() == 1


def test_the_schema_documents_the_header(anon_client, db):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    create = schema["paths"]["/api/v1/podcasts"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert "422" in create["responses"]


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_create_one_podcast(postgres, owner):
    """The second waits on the key's unique index until the first commits, then replays."""
    import threading

    from tests.conftest import client_for

    barrier = threading.Barrier(2)
    responses = []

    def send():
        from django.db import connection

        client = client_for(owner)
        barrier.wait()
        try:
            responses.append(post(client, "race"))
        finally:
            connection.close()  # this thread's connection must not outlive the test database

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [202, 202], [r.content for r in responses]
    assert responses[0].json() == responses[1].json()
    assert Podcast.objects.filter(user=owner).count() == 1
