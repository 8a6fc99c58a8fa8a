"""Personal access tokens: how the APIs and the MLflow client sign in.

A token reads ``mr_<prefix>_<secret>``. The prefix locates the row; the whole token is
compared by its sha256 in constant time.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.utils import timezone

from models_app.models import AccessToken

TOKEN_PREFIX = "mr_"  # noqa: S105 - marks a token for secret scanners, not a secret
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh (prefix, raw token) pair."""
    prefix = secrets.token_hex(6)
    return prefix, f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def user_for_token(raw: str):
    """The active user a valid token belongs to, or None (unknown, revoked or expired)."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = AccessToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    now = timezone.now()
    if token.is_revoked or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
