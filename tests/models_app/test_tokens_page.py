"""Account → API tokens: list, create (shown once), revoke."""

import re
from datetime import timedelta

from django.utils import timezone

from models_app.models import AccessToken, AuditEvent
from models_app.services import create_access_token
from models_app.tokens import user_for_token
from tests.factories import make_user

URL = "/account/tokens/"


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_lists_only_my_tokens_with_their_state(client, contributor):
    live, _ = create_access_token(actor=contributor, name="training pipeline")
    revoked, _ = create_access_token(actor=contributor, name="old laptop")
    revoked.revoked_at = timezone.now()
    revoked.save()
    expired, _ = create_access_token(actor=contributor, name="short lived")
    AccessToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    create_access_token(actor=make_user("someone-else"), name="not mine")
    client.force_login(contributor)

    response = client.get(URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert "training pipeline" in page and "old laptop" in page and "short lived" in page
    assert "not mine" not in page
    assert f"mr_{live.prefix}_…" in page
    assert ">revoked<" in page and ">expired<" in page and ">active<" in page
    # Only the live token can still be revoked.
    assert page.count("Revoke ") == 1
    assert "no-store" in response["Cache-Control"]


def test_a_new_token_is_shown_once_and_works(client, contributor):
    client.force_login(contributor)

    response = client.post(URL, {"name": "CI", "expires_in_days": "30"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    raw = re.search(r'value="(mr_[^"]+)"', page).group(1)
    assert "shown only this once" in page
    assert user_for_token(raw) == contributor
    token = AccessToken.objects.get(user=contributor)
    assert token.name == "CI"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert raw not in client.get(URL).content.decode()


def test_a_token_needs_a_name_and_a_known_lifetime(client, contributor):
    client.force_login(contributor)

    response = client.post(URL, {"name": "", "expires_in_days": "1000"})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"name", "expires_in_days"}
    assert not AccessToken.objects.exists()


def test_revoking_stops_the_token_at_once(client, contributor):
    token, raw = create_access_token(actor=contributor, name="CI")
    client.force_login(contributor)

    response = client.post(f"{URL}{token.pk}/revoke/", follow=True)

    assert response.redirect_chain[-1][0] == URL
    assert "Revoked the token" in response.content.decode()
    assert user_for_token(raw) is None
    assert AuditEvent.objects.filter(action="models_app.token.revoked").count() == 1


def test_revoking_twice_says_so(client, contributor):
    token, _ = create_access_token(actor=contributor, name="CI")
    client.force_login(contributor)
    client.post(f"{URL}{token.pk}/revoke/")

    response = client.post(f"{URL}{token.pk}/revoke/", follow=True)

    assert "already revoked" in response.content.decode()


def test_someone_elses_token_is_not_found(client, contributor, viewer):
    token, raw = create_access_token(actor=contributor, name="CI")
    client.force_login(viewer)

    response = client.post(f"{URL}{token.pk}/revoke/")

    assert response.status_code == 404
    assert user_for_token(raw) == contributor


def test_revoking_needs_post(client, contributor):
    token, _ = create_access_token(actor=contributor, name="CI")
    client.force_login(contributor)

    assert client.get(f"{URL}{token.pk}/revoke/").status_code == 405


def test_the_user_menu_links_to_the_tokens_page(client, contributor):
    client.force_login(contributor)

    assert 'href="/account/tokens/"' in client.get("/models/").content.decode()
