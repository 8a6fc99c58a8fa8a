"""Personal access token authentication for the REST API and the MLflow-compatible API.

Clients send ``Authorization: Bearer mr_<prefix>_<secret>``. The DRF class serves the
views under /api/v1/; ``user_from_request`` gives plain Django views the same rule.
"""

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from models_app.tokens import user_for_token

KEYWORD = "Bearer"


class MalformedAuthorization(Exception):
    """The Authorization header names the Bearer scheme but carries no usable token."""


def bearer_token(request: HttpRequest) -> str | None:
    """The raw token from ``Authorization: Bearer …``, or None when the header is absent or
    uses another scheme; raises MalformedAuthorization for a Bearer header without one token."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if not parts or parts[0].lower() != KEYWORD.lower():
        return None
    if len(parts) != 2:
        raise MalformedAuthorization("Authorization header must be 'Bearer <token>'.")
    return parts[1]


def user_from_request(request: HttpRequest):
    """The user a request's bearer token belongs to, or None when there is no token or it is
    unknown, revoked or expired. For non-DRF views (the MLflow-compatible API)."""
    try:
        raw = bearer_token(request)
    except MalformedAuthorization:
        return None
    if raw is None:
        return None
    return user_for_token(raw)


class AccessTokenAuthentication(BaseAuthentication):
    """DRF authentication by personal access token (``Authorization: Bearer <token>``)."""

    def authenticate(self, request):
        try:
            raw = bearer_token(request._request)
        except MalformedAuthorization as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if raw is None:
            # No token: let SessionAuthentication (or nothing) decide.
            return None
        user = user_for_token(raw)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired token.")
        return (user, raw)

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) with WWW-Authenticate when credentials are missing.
        return f'{KEYWORD} realm="api"'


class AccessTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token scheme in the OpenAPI schema (and the docs' Authorize button)."""

    target_class = AccessTokenAuthentication
    name = "accessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mr_<prefix>_<secret>",
            "description": "A personal access token from Account → API tokens.",
        }
