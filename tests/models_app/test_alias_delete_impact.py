"""Deleting an alias that applications follow shows whom it leaves with nothing first."""

import pytest
from django.urls import reverse

from models_app import services
from models_app.models import Alias, Application, Dependency
from tests.factories import make_alias, make_version
from tests.models_app.ledger import last_event


def delete_url(alias="champion", name="fraud-detector") -> str:
    return reverse("models_app:alias_delete", args=[name, alias])


@pytest.fixture
def versions(registered_model):
    return [make_version(registered_model) for _ in range(2)]


@pytest.fixture
def checkout(team):
    return Application.objects.create(slug="checkout", name="Checkout", owner_team=team)


@pytest.fixture
def signed_in(client, contributor):
    client.force_login(contributor)
    return client


def test_deleting_an_alias_that_applications_follow_asks_first(
    signed_in, versions, registered_model, checkout
):
    make_alias(registered_model, "champion", versions[0])
    Dependency.objects.create(application=checkout, model=registered_model, alias_name="champion")

    response = signed_in.post(delete_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Who gets nothing" in html
    impact = html[html.index("impact-table") :]
    assert "Checkout" in impact and "alias champion" in impact and ">v1<" in impact
    assert 'name="confirmed"' in html
    assert delete_url() in html
    assert Alias.objects.filter(name="champion").exists()


def test_the_confirmed_deletion_happens(signed_in, versions, registered_model, checkout):
    make_alias(registered_model, "champion", versions[0])
    Dependency.objects.create(application=checkout, model=registered_model, alias_name="champion")

    response = signed_in.post(delete_url(), {"confirmed": "1"})

    assert response.status_code == 302
    assert not Alias.objects.exists()
    assert last_event().action == "models_app.alias.deleted"


def test_a_deletion_that_reaches_nobody_happens_at_once(
    signed_in, versions, registered_model, checkout
):
    make_alias(registered_model, "champion", versions[0])
    # Pinned dependencies ignore the alias they also name, so nobody follows it.
    Dependency.objects.create(
        application=checkout,
        model=registered_model,
        alias_name="champion",
        pinned_version=versions[1],
    )

    response = signed_in.post(delete_url())

    assert response.status_code == 302
    assert not Alias.objects.exists()


def test_impact_of_alias_delete_lists_only_followers_of_that_alias(
    versions, registered_model, checkout, team
):
    make_alias(registered_model, "champion", versions[0])
    make_alias(registered_model, "challenger", versions[1])
    billing = Application.objects.create(slug="billing", name="Billing", owner_team=team)
    Dependency.objects.create(application=checkout, model=registered_model, alias_name="champion")
    Dependency.objects.create(application=billing, model=registered_model, alias_name="challenger")

    impacts = services.impact_of_alias_delete(registered_model, "champion")

    assert [(i.application.slug, i.current, i.new) for i in impacts] == [
        ("checkout", versions[0], None)
    ]


def test_a_viewer_cannot_reach_the_alias_deletion_confirmation(client, viewer, versions):
    client.force_login(viewer)

    assert client.post(delete_url()).status_code == 403
