"""The API's one request parser: DRF's strict JSON parser, hardened against input that
would otherwise escape as a 500."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Arrays nested a few thousand deep exhaust the decoder's stack.
            raise ParseError("JSON parse error - nested too deeply") from None
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - not UTF-8: {exc.reason}") from None
        problem = unstorable_text(data)
        if problem:
            raise ParseError(f"JSON parse error - {problem}")
        return data


def unstorable_text(data) -> str | None:
    """JSON may escape characters that no database column holds: NUL (PostgreSQL refuses
    it) and unpaired UTF-16 surrogates (not encodable as UTF-8). Walks without recursion."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "NUL characters are not allowed"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "unpaired UTF-16 surrogates are not allowed"
    return None
