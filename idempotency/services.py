"""`Idempotency-Key` on creating POSTs (POST /podcasts, /podcasts/{id}/retry, /webhooks).

- No header: the request runs as usual.
- A new key: the request runs inside one transaction together with the insertion of the
  key's record, so that either both the created object and the stored answer exist, or
  neither (an error answer stores nothing and the key may be used again).
- The same key again, same method, path and body, within IDEMPOTENCY_KEY_TTL: the stored
  answer, with `Idempotent-Replayed: true`, and nothing created.
- The same key with a different request: 422 `idempotency_key_mismatch`.
- Two requests with one key at once: the second waits on the unique index until the first
  commits, then replays its answer (PostgreSQL; SQLite serialises writers anyway).

Keys belong to a user: every API key and session of the user shares them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from idempotency.models import IdempotencyKey
from podnex.api.errors import DomainError, InvalidInput
from podnex.api.responses import ErrorSerializer

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces

PARAMETER = OpenApiParameter(
    name=HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    pattern=_VALID_KEY.pattern,
    description=(
        "Any unique string (a UUID is a good choice), 1-255 printable ASCII characters. "
        "Repeating the request with the same key and the same body within 24 hours returns "
        "the first answer and creates nothing; the same key with another body is a 422."
    ),
)


# For @extend_schema(responses=...) of a decorated view.
ERROR_RESPONSES = {422: ErrorSerializer}


class IdempotencyKeyMismatch(DomainError):
    status_code = 422
    code = "idempotency_key_mismatch"
    message = "This Idempotency-Key was already used with a different request"


def idempotent(handler):
    """Decorates the `post` of a DRF view (the user is authenticated when it runs)."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        if not _VALID_KEY.match(key):
            raise InvalidInput(
                "Idempotency-Key must be 1-255 printable ASCII characters",
                code="invalid_idempotency_key",
            )
        fingerprint = request_fingerprint(
            method=request.method, path=request.path, data=request.data
        )
        with transaction.atomic():
            record, created = _record_claim(
                user=request.user, key=key, fingerprint=fingerprint, now=timezone.now()
            )
            if not created:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyMismatch()
                response = Response(record.response_body, status=record.response_status)
                response[REPLAYED_HEADER] = "true"
                return response
            response = handler(self, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                # Nothing was created: free the key so the client can fix and resend.
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper


def request_fingerprint(*, method: str, path: str, data) -> str:
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=JSONEncoder)
    return hashlib.sha256(f"{method}\n{path}\n{body}".encode()).hexdigest()


def _record_claim(*, user, key: str, fingerprint: str, now: datetime):
    """(record, created): the live record of this key, or a new placeholder row."""
    expired_before = now - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=expired_before).delete()
    try:
        with transaction.atomic():
            # Blocks on the unique index while another request holding this key runs.
            record = IdempotencyKey.objects.create(
                user=user,
                key=key,
                fingerprint=fingerprint,
                response_status=0,
                response_body={},
                created_at=now,
            )
        return record, True
    except IntegrityError:
        return IdempotencyKey.objects.get(user=user, key=key), False


def keys_purge_expired(*, now: datetime | None = None) -> int:
    """The beat task: forget keys older than IDEMPOTENCY_KEY_TTL."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
