"""What an API key may do. A view declares the scope each method needs; sessions have all.

    class PodcastListCreateView(APIView):
        required_scopes = {"GET": PODCAST_READ, "POST": PODCAST_CREATE}

or `required_scopes = USAGE_READ` for every method. A view that declares nothing cannot be
called with an API key at all (safe default), and `allow_api_keys = False` refuses keys
outright (the API-key management routes: a leaked key cannot mint more keys).
"""

from __future__ import annotations

PODCAST_CREATE = "podcast:create"
PODCAST_READ = "podcast:read"
PODCAST_DELETE = "podcast:delete"
WEBHOOK_MANAGE = "webhook:manage"
USAGE_READ = "usage:read"

SCOPES: dict[str, str] = {
    PODCAST_CREATE: "Create podcasts (POST /podcasts) and retry failed ones "
    "(POST /podcasts/{id}/retry).",
    PODCAST_READ: "List and read podcasts, their status, transcript and download link, and "
    "the voices.",
    PODCAST_DELETE: "Delete podcasts (DELETE /podcasts/{id}).",
    WEBHOOK_MANAGE: "List, create, change and delete webhooks.",
    USAGE_READ: "Read usage and subscription (GET /user/usage, GET /user/subscription).",
}


def required_scope(view, method: str) -> str | None:
    """The scope an API key needs for `method` on `view`; None when keys may not call it."""
    if getattr(view, "allow_api_keys", True) is False:
        return None
    declared = getattr(view, "required_scopes", None)
    if declared is None or isinstance(declared, str):
        return declared
    if method in ("HEAD", "OPTIONS"):
        method = "GET"
    return declared.get(method)
