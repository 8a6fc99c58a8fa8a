"""Personal access tokens: made once, stored hashed, revocable, expiring."""

from datetime import timedelta

import pytest
from django.utils import timezone

from models_app.models import AccessToken, AuditEvent
from models_app.services import NotAllowed, RegistryError, create_access_token, revoke_access_token
from models_app.tokens import user_for_token
from tests.factories import make_user


def test_a_new_token_signs_its_owner_in_and_only_its_hash_is_stored(contributor):
    token, raw = create_access_token(actor=contributor, name="CI pipeline")

    assert user_for_token(raw) == contributor
    assert raw.startswith(f"mr_{token.prefix}_")
    assert raw not in token.token_hash
    assert not AccessToken.objects.filter(token_hash=raw).exists()
    event = AuditEvent.objects.get(action="models_app.token.created")
    assert raw not in event.changes


@pytest.mark.parametrize(
    "mangle",
    [lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"), lambda raw: "", lambda raw: "mr_x"],
)
def test_a_wrong_token_signs_nobody_in(contributor, mangle):
    _, raw = create_access_token(actor=contributor, name="CI")

    assert user_for_token(mangle(raw)) is None


def test_a_revoked_or_expired_token_or_inactive_owner_signs_nobody_in(contributor):
    revoked, revoked_raw = create_access_token(actor=contributor, name="old")
    expired, expired_raw = create_access_token(actor=contributor, name="short")
    revoke_access_token(actor=contributor, token=revoked)
    AccessToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))

    assert user_for_token(revoked_raw) is None
    assert user_for_token(expired_raw) is None
    _, raw = create_access_token(actor=contributor, name="live")
    contributor.is_active = False
    contributor.save()
    assert user_for_token(raw) is None


def test_only_the_owner_or_a_superuser_revokes(contributor, superuser):
    token, _ = create_access_token(actor=contributor, name="CI")

    with pytest.raises(NotAllowed):
        revoke_access_token(actor=make_user("mallory"), token=token)
    revoke_access_token(actor=superuser, token=token)

    token.refresh_from_db()
    assert token.is_revoked
    with pytest.raises(RegistryError, match="already revoked"):
        revoke_access_token(actor=contributor, token=token)


@pytest.mark.parametrize(("name", "days"), [("", 30), ("x" * 101, 30), ("ok", 0), ("ok", 400)])
def test_it_refuses_a_bad_name_or_lifetime(contributor, name, days):
    with pytest.raises(RegistryError):
        create_access_token(actor=contributor, name=name, expires_in_days=days)

    assert not AccessToken.objects.exists()
