"""Request validation and response shapes of /api/v1/sources (camelCase as the API)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from podnex.api.fields import HttpUrlField, StrictCharField
from sources.models import Source, SourceStatus, SourceType

TYPES = [t.lower() for t in SourceType.values]
CREATE_TYPES = ["url", "text"]  # in a JSON body; files come as multipart/form-data
STATUSES = [s.lower() for s in SourceStatus.values]
TEXT_FORMATS = ["markdown", "plain", "html", "rst"]


class SourceKindSerializer(serializers.Serializer):
    """The `type` of a JSON body, read first to pick the serializer of the rest."""

    type = serializers.ChoiceField(choices=CREATE_TYPES)


class SourceUrlSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["url"])
    url = HttpUrlField(
        max_length=2000,
        help_text="A public http(s) page or file (HTML, PDF, DOCX, EPUB, text), read in the "
        "background.",
    )
    title = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=300)


class SourceTextSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["text"])
    text = StrictCharField(
        trim_whitespace=True,
        max_length=settings.SOURCE_MAX_CHARS,
        help_text=f"Pasted text; after cleaning it must hold at least {settings.SOURCE_MIN_CHARS} "
        "readable characters.",
    )
    format = serializers.ChoiceField(
        choices=TEXT_FORMATS, default="markdown", help_text="How to read the markup (plain: none)."
    )
    title = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=300)


# The JSON body's schema: one of the two shapes, told apart by `type`.
SOURCE_CREATE_JSON = PolymorphicProxySerializer(
    component_name="SourceCreate",
    serializers={"url": SourceUrlSerializer, "text": SourceTextSerializer},
    resource_type_field_name="type",
)


class SourceUploadSerializer(serializers.Serializer):
    """multipart/form-data: the file (PDF, DOCX, EPUB, HTML, Markdown, reStructuredText or
    plain text; the type is told from the bytes) and an optional title."""

    file = serializers.FileField(
        allow_empty_file=False,
        help_text=f"At most {settings.SOURCE_MAX_BYTES} bytes (413 over it); an unknown type "
        "or one the name contradicts gets 415.",
    )
    title = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=300)


class SourceListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    type = serializers.ChoiceField(choices=TYPES, required=False)


class SourceSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    contentType = serializers.CharField(
        source="content_type", help_text="Sniffed from the content, e.g. application/pdf"
    )
    characters = serializers.IntegerField(help_text="Length of the clean text")
    size = serializers.IntegerField(allow_null=True, help_text="Bytes uploaded or downloaded")
    url = serializers.CharField(allow_null=True)
    filename = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True, help_text="Why reading it failed")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Source
        fields = [
            "id",
            "type",
            "title",
            "status",
            "error",
            "characters",
            "contentType",
            "size",
            "url",
            "filename",
            "createdAt",
            "updatedAt",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=TYPES))
    def get_type(self, obj: Source) -> str:
        return obj.type.lower()

    @extend_schema_field(serializers.ChoiceField(choices=STATUSES))
    def get_status(self, obj: Source) -> str:
        return obj.status.lower()
