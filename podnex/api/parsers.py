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
        return data
