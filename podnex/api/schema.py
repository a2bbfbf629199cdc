"""drf-spectacular hooks: routes that are plain Django views (not DRF) still belong in
/api/schema/, which must list every /api/v1 route."""

from __future__ import annotations

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_AUDIO = {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}


def document_plain_views(result: dict, generator, request, public) -> dict:
    result["paths"]["/api/v1/media/{token}"] = {
        "get": {
            "operationId": "media_retrieve",
            "summary": "Stored audio behind a signed link",
            "description": (
                "The `url` of GET /api/v1/podcasts/{id}/download when audio is stored "
                "locally. The signed token is the credential; Range requests are honoured."
            ),
            "tags": ["media"],
            "security": [],
            "parameters": [
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "Range",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "bytes=<start>-<end>",
                },
            ],
            "responses": {
                "200": {"description": "The whole file", "content": _AUDIO},
                "206": {"description": "The requested range", "content": _AUDIO},
                "404": {"description": "No such link or file", "content": _ERROR},
                "410": {"description": "The link has expired", "content": _ERROR},
                "416": {"description": "Range not satisfiable"},
            },
        }
    }
    return result
