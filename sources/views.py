"""/api/v1/sources: thin views that parse, call a service, and render."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers
from rest_framework.views import APIView

from apikeys import scopes
from apikeys.schema import AutoSchema
from podnex.api.errors import Conflict
from podnex.api.pagination import PaginationSerializer
from podnex.api.parsers import JSONParser
from podnex.api.responses import ERROR_RESPONSES, ErrorSerializer, envelope, ok, validated
from sources import services
from sources.models import SourceStatus
from sources.serializers import (
    SOURCE_CREATE_JSON,
    SourceKindSerializer,
    SourceListQuerySerializer,
    SourceSerializer,
    SourceTextSerializer,
    SourceUploadSerializer,
    SourceUrlSerializer,
)

CREATE_ERRORS = {**ERROR_RESPONSES, 413: ErrorSerializer, 415: ErrorSerializer}


class RequiredBodySchema(AutoSchema):
    """POST /sources always needs a body (a JSON shape or an upload); drf-spectacular
    cannot infer that from a oneOf, so say it."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body and self.method == "POST":
            body["required"] = True
        return body


class SourceListCreateView(APIView):
    # Sources feed podcasts: the podcast scopes cover them.
    required_scopes = {"GET": scopes.PODCAST_READ, "POST": scopes.PODCAST_CREATE}
    burst_limits = {"POST": "source_create"}
    schema = RequiredBodySchema()
    parser_classes = [JSONParser, parsers.MultiPartParser]

    @extend_schema(
        operation_id="sources_create",
        description="A URL or pasted text (JSON), or a file upload (multipart/form-data). "
        "Text is ready at once; URLs and files are read in the background: poll "
        "GET /sources/{id} until `status` is ready or failed (with `error`).",
        request={
            "application/json": SOURCE_CREATE_JSON,
            "multipart/form-data": SourceUploadSerializer,
        },
        responses={
            201: envelope("SourceCreatedResponse", source=SourceSerializer()),
            **CREATE_ERRORS,
        },
    )
    def post(self, request):
        if request.content_type.startswith("multipart/"):
            data = validated(SourceUploadSerializer, request.data)
            source = services.source_create_upload(
                user=request.user, upload=data["file"], title=data.get("title") or None
            )
        else:
            kind = validated(SourceKindSerializer, request.data)["type"]
            if kind == "url":
                data = validated(SourceUrlSerializer, request.data)
                source = services.source_create_url(
                    user=request.user, url=data["url"], title=data.get("title") or None
                )
            else:
                data = validated(SourceTextSerializer, request.data)
                source = services.source_create_text(
                    user=request.user,
                    text=data["text"],
                    fmt=data["format"],
                    title=data.get("title") or None,
                )
        return ok(status=201, source=SourceSerializer(source).data)

    @extend_schema(
        operation_id="sources_list",
        parameters=[SourceListQuerySerializer],
        responses={
            200: envelope(
                "SourceListResponse",
                sources=SourceSerializer(many=True),
                pagination=PaginationSerializer(),
            ),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request):
        query = validated(SourceListQuerySerializer, request.query_params)
        page = services.source_list(user=request.user, **query)
        return ok(sources=SourceSerializer(page.items, many=True).data, pagination=page.meta())


class SourceDetailView(APIView):
    required_scopes = {"GET": scopes.PODCAST_READ, "DELETE": scopes.PODCAST_DELETE}

    @extend_schema(
        operation_id="sources_retrieve",
        responses={
            200: envelope("SourceDetailResponse", source=SourceSerializer()),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, source_id: str):
        source = services.source_get(user=request.user, source_id=source_id)
        return ok(source=SourceSerializer(source).data)

    @extend_schema(
        operation_id="sources_destroy",
        responses={
            200: envelope("SourceDeletedResponse", message=serializers.CharField()),
            **ERROR_RESPONSES,
        },
    )
    def delete(self, request, source_id: str):
        services.source_delete(user=request.user, source_id=source_id)
        return ok(message="Source deleted")


class SourceTextView(APIView):
    required_scopes = scopes.PODCAST_READ

    @extend_schema(
        operation_id="sources_text",
        description="The clean, speakable text the script writer sees (409 until ready).",
        responses={
            200: envelope(
                "SourceTextResponse",
                sourceId=serializers.CharField(),
                title=serializers.CharField(allow_null=True),
                characters=serializers.IntegerField(),
                text=serializers.CharField(),
            ),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, source_id: str):
        source = services.source_get(user=request.user, source_id=source_id)
        if source.status != SourceStatus.READY:
            raise Conflict(
                f"The source has no text; it is {source.status.lower()}",
                code="source_not_ready",
                status=source.status.lower(),
            )
        return ok(
            sourceId=source.id, title=source.title, characters=source.characters, text=source.text
        )
