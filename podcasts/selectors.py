"""Read queries of podcasts that grew past a one-liner."""

from __future__ import annotations

from django.db.models import F

from podcasts.models import Podcast
from podcasts.serializers import SORTS
from podnex.api.errors import NotFound
from podnex.api.pagination import Page, paginate


def podcast_list(
    *,
    user,
    page: int,
    limit: int,
    status: str | None = None,
    sort: str = "createdAt",
    order: str = "desc",
) -> Page:
    queryset = Podcast.visible.filter(user=user).defer("note_content", "transcript")
    if status:
        queryset = queryset.filter(status=status.upper())
    field = F(SORTS[sort])
    # Podcasts without audio yet have no duration: they sort last either way.
    ordering = field.desc(nulls_last=True) if order == "desc" else field.asc(nulls_last=True)
    queryset = queryset.order_by(ordering, "-id" if order == "desc" else "id")
    return paginate(queryset, page=page, limit=limit)


def podcast_status(*, user, podcast_id: str) -> Podcast:
    """Only the columns a poller needs: this endpoint is called every second or two."""
    podcast = (
        Podcast.visible.filter(id=podcast_id, user=user)
        .only(
            "id",
            "status",
            "progress",
            "current_step",
            "error",
            "audio_duration",
            "warnings",
            "updated_at",
        )
        .first()
    )
    if podcast is None:
        raise NotFound("Podcast not found")
    return podcast


def podcast_audio_is_served(*, key: str) -> bool:
    """Whether a stored episode may still be served: its podcast exists, is not deleted,
    and this is its current audio. A signed link stops working the moment that ends."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "podcasts":  # storage.audio_key's layout
        return False
    return Podcast.visible.filter(id=parts[2], user_id=parts[1], audio_url=key).exists()
