from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers, booleans and objects instead of coercing them."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class HttpUrlField(serializers.URLField):
    """A URL whose scheme is http or https (no javascript:, file:, ftp: ...). Where it may
    point (SSRF rules) is the webhook service's business."""

    default_error_messages = {"scheme": "Only http and https URLs are accepted."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value.lower().startswith(("http://", "https://")):
            self.fail("scheme")
        return value
