"""The key itself: `pk_live_<43 url-safe chars>` (32 random bytes; `pk_test_` outside
production). Only an HMAC-SHA256 digest is stored: the key has 256 bits of entropy, so a
fast keyed hash is as safe as a slow password hash and costs microseconds per request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.conf import settings

RANDOM_BYTES = 32
DISPLAY_CHARS = 4  # of the random part, kept in `prefix` so users can tell keys apart
_FORMAT = re.compile(r"pk_(live|test)_[A-Za-z0-9_-]{43}")


def key_prefix_for_environment() -> str:
    return "pk_live_" if settings.IS_PRODUCTION else "pk_test_"


def key_generate() -> str:
    return key_prefix_for_environment() + secrets.token_urlsafe(RANDOM_BYTES)


def key_display_prefix(raw_key: str) -> str:
    return raw_key[: len(key_prefix_for_environment()) + DISPLAY_CHARS]


def key_digest(raw_key: str) -> str:
    secret = settings.API_KEY_HASH_SECRET.encode()
    return hmac.new(secret, raw_key.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def key_is_well_formed(raw_key: str) -> bool:
    """A key of this environment's kind: a test key never works in production."""
    return bool(_FORMAT.fullmatch(raw_key)) and raw_key.startswith(key_prefix_for_environment())
