"""factory_boy factories: rows built the way the app builds them."""

from __future__ import annotations

import factory

from accounts.models import User
from podcasts.models import Podcast, PodcastDuration, PodcastStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password("correct-horse-battery-staple")


SAMPLE_NOTES = """# Honeybees

## How a hive works
A colony has one queen, thousands of female workers and a few hundred male drones.
Workers change jobs as they age: they clean cells, feed larvae, build comb and finally forage.

## Why bees dance
A forager who finds flowers performs a waggle dance on the comb.
The angle of the dance points to the food relative to the sun, and its length tells the distance.
"""


class PodcastFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Podcast

    user = factory.SubFactory(UserFactory)
    note_content = SAMPLE_NOTES
    duration = PodcastDuration.SHORT
    status = PodcastStatus.QUEUED
    tts_provider = "espeak"
