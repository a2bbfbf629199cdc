"""The plan's pagination: ?page=&limit= (limit at most 100) and a `pagination{}` object."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework import serializers

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT
    )


class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    totalPages = serializers.IntegerField()


@dataclass
class Page:
    items: list
    page: int
    limit: int
    total: int

    def meta(self) -> dict:
        return {
            "page": self.page,
            "limit": self.limit,
            "total": self.total,
            "totalPages": math.ceil(self.total / self.limit) if self.total else 0,
        }


def paginate(queryset: QuerySet, *, page: int, limit: int) -> Page:
    total = queryset.count()
    offset = (page - 1) * limit
    if offset and offset >= total:
        # Past the end: no query with an OFFSET the database cannot even represent.
        return Page(items=[], page=page, limit=limit, total=total)
    return Page(items=list(queryset[offset : offset + limit]), page=page, limit=limit, total=total)
