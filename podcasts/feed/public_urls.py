"""Under /feeds/: what podcast apps fetch, without logging in (the token is the credential)."""

from django.urls import re_path

from podcasts.feed import views

app_name = "feeds"

_FEED = r"^(?P<token>[A-Za-z0-9_-]+)"
_EPISODE = _FEED + r"/episodes/(?P<podcast_id>[A-Za-z0-9]+)"
# Cover URLs carry a version (cover-<unix time>.jpg) so apps fetch a changed one again,
# while still ending in .jpg as Apple asks.

urlpatterns = [
    re_path(_FEED + r"\.xml$", views.FeedDocumentView.as_view(), name="document"),
    re_path(_FEED + r"/cover(?:-\d+)?\.jpg$", views.FeedCoverView.as_view(), name="cover"),
    re_path(_EPISODE + r"\.mp3$", views.EpisodeAudioView.as_view(), name="episode-audio"),
    re_path(
        _EPISODE + r"\.(?P<extension>vtt|srt)$",
        views.EpisodeTranscriptView.as_view(),
        name="episode-transcript",
    ),
    re_path(
        _EPISODE + r"/chapters\.json$",
        views.EpisodeChaptersView.as_view(),
        name="episode-chapters",
    ),
    re_path(
        _EPISODE + r"/cover(?:-\d+)?\.jpg$", views.EpisodeCoverView.as_view(), name="episode-cover"
    ),
]
