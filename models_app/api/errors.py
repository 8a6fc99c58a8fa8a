"""One error shape for every API answer: {"error": {"code", "message", "field"}}.

Service refusals (RegistryError) map to a status by their code; DRF's own exceptions
(authentication, parsing, validation) and Django's 404/403 are reshaped the same way, so a
client reads one format and never gets an HTML page or a 500 for bad input.
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from models_app.services import RegistryError

# Refusals because of the current state of things rather than the request itself: retrying
# the same request later, or after changing that state, may succeed.
CONFLICT_CODES = frozenset(
    {
        "duplicate",
        "evidence_locked",
        "in_use",
        "checksum_mismatch",
        "conflict",
        "confirmation_required",
        # approvals and promotion (approvals_app)
        "approval_required",
        "promotion_path",
        "archived",
        "retired",
        "deprecated",
        "already_live",
        "traffic_exceeded",
        "nothing_to_roll_back",
        "gate_failed",
    }
)
STATUS_BY_CODE = {
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "not_found": status.HTTP_404_NOT_FOUND,
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def error_body(code: str, message: str, field: str | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def error_response(status_code: int, code: str, message: str, field: str | None = None):
    """The error shape as a plain Django response, for answers given before DRF runs."""
    return JsonResponse(error_body(code, message, field), status=status_code)


def status_for(exc: RegistryError) -> int:
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    if exc.code in CONFLICT_CODES:
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def _first_error(detail, path: tuple = ()) -> tuple[str | None, str, str]:
    """(dotted field path, message, code) of the first error in a DRF ValidationError detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            field_path = path if key == "non_field_errors" else (*path, str(key))
            return _first_error(value, field_path)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if value in ({}, [], None):
                continue
            # A list of messages on one field keeps the field; a list of entries names the entry.
            nested = isinstance(value, dict | list)
            return _first_error(value, (*path, str(index)) if nested else path)
    code = getattr(detail, "code", None) or "invalid"
    return (".".join(path) or None), str(detail), code


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception a view raises becomes the error shape."""
    if isinstance(exc, RegistryError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.field), status=status_for(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(str(exc))
    elif isinstance(exc, SuspiciousOperation):
        # Django's multipart parser refuses malformed or oversized bodies this way.
        exc = exceptions.ParseError(str(exc) or "The request could not be read.")
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_error(exc.detail)
        body = error_body(code, message, field, details=exc.detail)
    else:
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        body = error_body(str(code), str(detail))
    return Response(body, status=exc.status_code, headers=headers)
