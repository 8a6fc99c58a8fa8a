"""Request parsers that refuse oversized bodies up front and, for metrics, name bad values."""

from django.conf import settings
from rest_framework import parsers

from models_app.api.errors import PayloadTooLarge


def _declared_length(parser_context) -> int:
    request = (parser_context or {}).get("request")
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        return 0


class JSONParser(parsers.JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE; json.load would read any size into
    memory, and Django's own limit only guards request.body, which DRF does not use."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _declared_length(parser_context) > limit:
            raise PayloadTooLarge(f"A JSON body may be at most {limit:,} bytes.")
        return super().parse(stream, media_type, parser_context)


class MetricsJSONParser(JSONParser):
    """Also reads NaN and Infinity, which Python's json.dumps writes for such floats: a
    pipeline that logs a NaN loss then hears which entry was bad from log_metrics, rather
    than only that the body is not strict JSON."""

    strict = False
