"""Shapes of /api/v1/feed (settings, uploads) and /api/v1/podcasts/{id}/chapters."""

from __future__ import annotations

from rest_framework import serializers

from podcasts.languages import LANGUAGES
from podnex.api.fields import DocumentedCharField, StrictCharField

# Apple Podcasts' top-level categories (what itunes:category may name).
CATEGORIES = [
    "Arts",
    "Business",
    "Comedy",
    "Education",
    "Fiction",
    "Government",
    "Health & Fitness",
    "History",
    "Kids & Family",
    "Leisure",
    "Music",
    "News",
    "Religion & Spirituality",
    "Science",
    "Society & Culture",
    "Sports",
    "Technology",
    "True Crime",
    "TV & Film",
]


class FeedUpdateSerializer(serializers.Serializer):
    title = StrictCharField(required=False, allow_blank=True, max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=4000)
    author = StrictCharField(required=False, allow_blank=True, max_length=200)
    language = DocumentedCharField(
        required=False, max_length=8, schema=lambda: {"enum": sorted(LANGUAGES)}
    )
    category = serializers.ChoiceField(required=False, choices=CATEGORIES)
    explicit = serializers.BooleanField(required=False)

    def validate_language(self, value: str) -> str:
        code = value.strip().lower()
        if code not in LANGUAGES:
            raise serializers.ValidationError("Not an ISO 639-1 language code")
        return code


class ClipSerializer(serializers.Serializer):
    duration = serializers.FloatField(help_text="seconds")


class FeedClipsSerializer(serializers.Serializer):
    intro = ClipSerializer(allow_null=True)
    outro = ClipSerializer(allow_null=True)
    bed = ClipSerializer(allow_null=True)


class FeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The secret feed URL: whoever has it can listen.")
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    author = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField()
    explicit = serializers.BooleanField()
    image = serializers.URLField(help_text="The feed's cover art (uploaded or drawn).")
    imageUploaded = serializers.BooleanField()
    clips = FeedClipsSerializer()
    updatedAt = serializers.DateTimeField()


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class ChapterSerializer(serializers.Serializer):
    startTime = serializers.FloatField(help_text="seconds")
    title = serializers.CharField()


class ChaptersSerializer(serializers.Serializer):
    version = serializers.CharField()
    chapters = ChapterSerializer(many=True)
