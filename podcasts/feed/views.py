"""/api/v1/feed (the owner's settings and uploads), /api/v1/podcasts/{id}/chapters, and the
public routes under /feeds/<token> that podcast apps fetch without logging in."""

from __future__ import annotations

import hashlib
import json

from django.db.models import Max
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views import View
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.views import APIView

from apikeys import scopes
from podcasts import services as podcast_services
from podcasts import storage, transcripts
from podcasts.chapters import CHAPTERS_CONTENT_TYPE, chapters_json, chapters_of
from podcasts.feed import rss, services
from podcasts.feed.serializers import (
    ChaptersSerializer,
    FeedSerializer,
    FeedUpdateSerializer,
    UploadSerializer,
)
from podcasts.models import Feed, Podcast, PodcastStatus
from podcasts.views import _not_ready, _parse_range, _read_span
from podnex.api.errors import error_body
from podnex.api.responses import ERROR_RESPONSES, ErrorSerializer, envelope, ok, validated

FEED_RESPONSE = envelope("FeedResponse", feed=FeedSerializer())
UPLOAD_ERRORS = {**ERROR_RESPONSES, 413: ErrorSerializer}
CLIP_KIND = OpenApiParameter(
    "kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(services.CLIP_KINDS)
)


def _feed_payload(feed: Feed) -> dict:
    token = services.feed_token(feed)
    clips = {
        kind: (
            {"duration": getattr(feed, f"{kind}_duration")}
            if getattr(feed, f"{kind}_key")
            else None
        )
        for kind in services.CLIP_KINDS
    }
    payload = {
        "url": services.feed_url(feed),
        "title": services.feed_title(feed),
        "description": feed.description,
        "author": services.feed_author(feed),
        "language": feed.language,
        "category": feed.category,
        "explicit": feed.explicit,
        "image": rss.feed_cover_url(feed, token),
        "imageUploaded": bool(feed.image_key),
        "clips": clips,
        "updatedAt": feed.updated_at,
    }
    return FeedSerializer(payload).data


class FeedView(APIView):
    # Reading the feed URL is like reading the episodes; changing the feed needs a session.
    required_scopes = {"GET": scopes.PODCAST_READ}

    @extend_schema(operation_id="feed_retrieve", responses={200: FEED_RESPONSE, **ERROR_RESPONSES})
    def get(self, request):
        return ok(feed=_feed_payload(services.feed_get_or_create(user=request.user)))

    @extend_schema(
        operation_id="feed_update",
        request=FeedUpdateSerializer,
        responses={200: FEED_RESPONSE, **ERROR_RESPONSES},
    )
    def patch(self, request):
        data = validated(FeedUpdateSerializer, request.data)
        return ok(feed=_feed_payload(services.feed_update(user=request.user, **data)))


class FeedRotateView(APIView):
    @extend_schema(
        operation_id="feed_rotate",
        request=None,
        description="A new secret feed URL; the old one stops working at once.",
        responses={200: FEED_RESPONSE, **ERROR_RESPONSES},
    )
    def post(self, request):
        return ok(feed=_feed_payload(services.feed_rotate(user=request.user)))


def _upload(request) -> bytes:
    data = validated(UploadSerializer, request.data)
    upload = data["file"]
    return upload.read()


class FeedImageView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="feed_image_upload",
        request={"multipart/form-data": UploadSerializer},
        description="Cover art for the feed and its episodes: a square JPEG or PNG of 1400 "
        "to 3000 pixels (FEED_IMAGE_MAX_BYTES at most).",
        responses={200: FEED_RESPONSE, **UPLOAD_ERRORS},
    )
    def put(self, request):
        feed = services.feed_image_set(user=request.user, data=_upload(request))
        return ok(feed=_feed_payload(feed))

    @extend_schema(
        operation_id="feed_image_delete",
        description="Back to the cover drawn from the title.",
        responses={200: FEED_RESPONSE, **ERROR_RESPONSES},
    )
    def delete(self, request):
        return ok(feed=_feed_payload(services.feed_image_clear(user=request.user)))


class FeedClipView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="feed_clip_upload",
        parameters=[CLIP_KIND],
        request={"multipart/form-data": UploadSerializer},
        description="An intro, outro or music bed (`kind`): MP3, WAV or OGG. Intro and outro "
        "up to FEED_CLIP_MAX_SECONDS, the bed up to FEED_BED_MAX_SECONDS; episodes made "
        "afterwards open and close with them, the bed ducked under the voices.",
        responses={200: FEED_RESPONSE, **UPLOAD_ERRORS},
    )
    def put(self, request, kind: str):
        feed = services.feed_clip_set(user=request.user, kind=kind, data=_upload(request))
        return ok(feed=_feed_payload(feed))

    @extend_schema(
        operation_id="feed_clip_delete",
        parameters=[CLIP_KIND],
        responses={200: FEED_RESPONSE, **ERROR_RESPONSES},
    )
    def delete(self, request, kind: str):
        return ok(feed=_feed_payload(services.feed_clip_clear(user=request.user, kind=kind)))


class PodcastArtworkView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="podcasts_artwork_upload",
        request={"multipart/form-data": UploadSerializer},
        description="The episode's own cover art (square JPEG or PNG, 1400 to 3000 pixels), "
        "shown in the feed and embedded in its MP3. Without one, an episode gets the feed's "
        "uploaded cover, or one drawn from its title.",
        responses={
            200: envelope("PodcastArtworkResponse", image=serializers.URLField()),
            **UPLOAD_ERRORS,
        },
    )
    def put(self, request, podcast_id: str):
        podcast = services.episode_artwork_set(
            user=request.user, podcast_id=podcast_id, data=_upload(request)
        )
        feed = services.feed_get_or_create(user=request.user)
        base = rss.base_url(services.feed_token(feed))
        return ok(image=rss.episode_cover_url(podcast, base))


class PodcastChaptersView(APIView):
    required_scopes = scopes.PODCAST_READ

    @extend_schema(
        operation_id="podcasts_chapters",
        description="Podcasting 2.0 JSON chapters: one per script section, timed on the audio.",
        responses={200: ChaptersSerializer, **ERROR_RESPONSES},
    )
    def get(self, request, podcast_id: str):
        podcast = podcast_services.podcast_get(user=request.user, podcast_id=podcast_id)
        if podcast.status != PodcastStatus.COMPLETED or podcast.transcript is None:
            raise _not_ready(podcast)
        return JsonResponse(_chapters(podcast), content_type=CHAPTERS_CONTENT_TYPE)


def _chapters(podcast) -> dict:
    chapters = chapters_of(
        podcast.transcript, duration=podcast.audio_duration or 0, title=podcast.title or ""
    )
    return chapters_json(chapters)


# --- Public, under the feed's token -----------------------------------------------------------


def _not_found() -> JsonResponse:
    return JsonResponse(error_body("Not found", "not_found"), status=404)


class _FeedRoute(View):
    """Resolves the token (404 when unknown or rotated) and, where there is one, the
    episode (404 unless completed and not deleted: a deleted episode vanishes at once)."""

    http_method_names = ["get", "head"]

    def dispatch(self, request, token: str, podcast_id: str | None = None, **kwargs):
        feed = services.feed_by_token(token)
        if feed is None:
            return _not_found()
        request.feed, request.feed_token = feed, token
        if podcast_id is not None:
            podcast = services.feed_episode(feed, podcast_id)
            if podcast is None:
                return _not_found()
            kwargs["podcast"] = podcast
        response = super().dispatch(request, **kwargs)
        # Apps revalidate every time (cheap: ETag/304 on the feed), so a rotated token or a
        # deleted episode is gone for them at once.
        response["Cache-Control"] = "private, no-cache"
        response["X-Robots-Tag"] = "noindex"
        return response


class FeedDocumentView(_FeedRoute):
    def get(self, request):
        feed = request.feed
        episodes = list(services.feed_episodes(feed))
        body = rss.feed_xml(feed, request.feed_token, episodes)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        modified = _last_modified(feed)
        response = get_conditional_response(request, etag=etag, last_modified=modified)
        if response is None:
            response = HttpResponse(body, content_type="application/rss+xml; charset=utf-8")
        response["ETag"] = etag
        response["Last-Modified"] = http_date(modified)
        return response


def _last_modified(feed: Feed) -> int:
    """Newest change to the feed or any of its episodes, a deletion included."""
    stamps = Podcast.objects.filter(user_id=feed.user_id).aggregate(
        updated=Max("updated_at"), deleted=Max("deleted_at")
    )
    newest = max(t for t in (feed.updated_at, stamps["updated"], stamps["deleted"]) if t)
    return int(newest.timestamp())


class FeedCoverView(_FeedRoute):
    def get(self, request):
        data, content_type = services.feed_cover(request.feed)
        return HttpResponse(data, content_type=content_type)


class EpisodeCoverView(_FeedRoute):
    def get(self, request, podcast):
        data, content_type = services.episode_cover(podcast)
        return HttpResponse(data, content_type=content_type)


class EpisodeTranscriptView(_FeedRoute):
    def get(self, request, podcast, extension: str):
        render, content_type = transcripts.RENDERERS[extension]
        return HttpResponse(render(podcast.transcript or []), content_type=content_type)


class EpisodeChaptersView(_FeedRoute):
    def get(self, request, podcast):
        body = json.dumps(_chapters(podcast), ensure_ascii=False)
        return HttpResponse(body, content_type=CHAPTERS_CONTENT_TYPE)


class EpisodeAudioView(_FeedRoute):
    """The enclosure: the episode's MP3 for as long as the feed token is valid. Local
    files are served here (HEAD and Range honoured); with S3 the app answers HEAD itself
    and redirects GET to a freshly presigned URL, so no link in the feed ever expires."""

    def head(self, request, podcast):
        response = HttpResponse(b"", content_type=storage.AUDIO_CONTENT_TYPE)
        response["Content-Length"] = str(podcast.audio_size or 0)
        response["Accept-Ranges"] = "bytes"
        return response

    def get(self, request, podcast):
        service = storage.storage_service()
        if not service.local:
            signed = storage.audio_signed_url(key=podcast.audio_url)
            return HttpResponseRedirect(signed.url)
        key = podcast.audio_url
        if not service.exists(key):
            return _not_found()
        size = service.storage.size(key)
        byte_range = _parse_range(request.headers.get("Range"), size)
        if byte_range == "unsatisfiable":
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        start, end = byte_range or (0, size - 1)
        response = StreamingHttpResponse(
            _read_span(key, start, end),
            status=206 if byte_range else 200,
            content_type=storage.AUDIO_CONTENT_TYPE,
        )
        if byte_range:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        response["Accept-Ranges"] = "bytes"
        return response
