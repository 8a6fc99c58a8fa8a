"""set_alias, delete_alias and set_membership."""

import pytest

from models_app.models import Alias, Membership
from models_app.services import (
    NotAllowed,
    RegistryError,
    archive_model,
    delete_alias,
    register_version,
    set_alias,
    set_membership,
)
from tests.factories import add_member, make_model, make_user
from tests.models_app.ledger import assert_chain_intact, last_event, row_counts


@pytest.fixture
def versions(contributor, registered_model):
    return [register_version(actor=contributor, model=registered_model) for _ in range(2)]


# --- set_alias -----------------------------------------------------------------------------


def test_it_sets_an_alias(contributor, registered_model, versions):
    alias = set_alias(
        actor=contributor, model=registered_model, name="Champion", version=versions[0]
    )

    alias.refresh_from_db()
    assert alias.name == "champion"
    assert alias.version == versions[0]
    assert alias.updated_by == contributor
    event = last_event()
    assert event.action == "models_app.alias.set"
    assert event.object_type == "models_app.Alias"
    assert event.model_name == "fraud-detector"
    assert event.version_number == 1
    assert event.before == {}
    assert event.after == {"alias": "champion", "version": 1}
    assert_chain_intact(expected_events=3)


def test_it_moves_an_alias(contributor, registered_model, versions):
    set_alias(actor=contributor, model=registered_model, name="champion", version=versions[0])

    alias = set_alias(
        actor=contributor, model=registered_model, name="champion", version=versions[1]
    )

    assert Alias.objects.get(model=registered_model, name="champion").version == versions[1]
    assert Alias.objects.count() == 1
    event = last_event()
    assert event.action == "models_app.alias.moved"
    assert event.object_id == str(alias.pk)
    assert event.before == {"alias": "champion", "version": 1}
    assert event.after == {"alias": "champion", "version": 2}
    assert_chain_intact(expected_events=4)


def test_setting_an_alias_to_where_it_points_writes_no_event(
    contributor, registered_model, versions
):
    set_alias(actor=contributor, model=registered_model, name="champion", version=versions[0])

    set_alias(actor=contributor, model=registered_model, name="champion", version=versions[0])

    assert_chain_intact(expected_events=3)


@pytest.mark.parametrize("name", ["latest", "LATEST", "v3", "v12"])
def test_it_refuses_a_reserved_alias(contributor, registered_model, versions, name):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        set_alias(actor=contributor, model=registered_model, name=name, version=versions[0])

    assert exc.value.field == "name"
    assert "is reserved" in exc.value.message
    assert row_counts() == before


@pytest.mark.parametrize("name", ["", "has space", "-edge", "x" * 61, "émoji"])
def test_it_refuses_an_invalid_alias_name(contributor, registered_model, versions, name):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        set_alias(actor=contributor, model=registered_model, name=name, version=versions[0])

    assert exc.value.field == "name"
    assert row_counts() == before


def test_an_alias_may_start_with_v_when_it_is_not_a_number(contributor, registered_model, versions):
    alias = set_alias(actor=contributor, model=registered_model, name="vip", version=versions[0])

    assert alias.name == "vip"


def test_it_refuses_a_version_of_another_model(contributor, team, registered_model, versions):
    other = make_model("churn", team=team)
    foreign = register_version(actor=contributor, model=other)
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        set_alias(actor=contributor, model=registered_model, name="champion", version=foreign)

    assert exc.value.field == "version"
    assert exc.value.message == "Version churn v1 is not a version of fraud-detector."
    assert row_counts() == before


def test_it_refuses_an_alias_on_an_archived_model(contributor, registered_model, versions):
    archive_model(actor=contributor, model=registered_model)
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        set_alias(actor=contributor, model=registered_model, name="champion", version=versions[0])

    assert exc.value.message == "fraud-detector is archived; restore it before changing it."
    assert row_counts() == before


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_aliases_without_the_contributor_role(
    request, persona, registered_model, versions
):
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed):
        set_alias(actor=actor, model=registered_model, name="champion", version=versions[0])

    assert row_counts() == before


# --- delete_alias --------------------------------------------------------------------------


def test_it_deletes_an_alias(contributor, registered_model, versions):
    alias = set_alias(
        actor=contributor, model=registered_model, name="champion", version=versions[1]
    )

    delete_alias(actor=contributor, model=registered_model, name="champion")

    assert not Alias.objects.exists()
    event = last_event()
    assert event.action == "models_app.alias.deleted"
    assert event.object_id == str(alias.pk)
    assert event.before == {"alias": "champion", "version": 2}
    assert event.after == {}
    assert_chain_intact(expected_events=4)


def test_it_refuses_to_delete_a_missing_alias(contributor, registered_model):
    with pytest.raises(RegistryError) as exc:
        delete_alias(actor=contributor, model=registered_model, name="champion")

    assert exc.value.message == "fraud-detector has no alias 'champion'."
    assert last_event() is None


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_deletion_without_the_contributor_role(
    request, persona, contributor, registered_model, versions
):
    set_alias(actor=contributor, model=registered_model, name="champion", version=versions[0])
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed):
        delete_alias(actor=actor, model=registered_model, name="champion")

    assert row_counts() == before


# --- set_membership ------------------------------------------------------------------------


@pytest.fixture
def team_admin(team):
    user = make_user("adele")
    add_member(user, team, "admin")
    return user


def test_a_team_admin_adds_a_member(team_admin, team):
    newcomer = make_user("nina")

    membership = set_membership(actor=team_admin, team=team, user=newcomer, role="contributor")

    assert Membership.objects.get(team=team, user=newcomer).role == "contributor"
    event = last_event()
    assert event.action == "models_app.membership.set"
    assert event.object_id == str(membership.pk)
    assert event.before == {}
    assert event.after == {"user": "nina", "team": "fraud-team", "role": "contributor"}
    assert_chain_intact(expected_events=1)


def test_a_team_admin_changes_a_role(team_admin, team, viewer):
    set_membership(actor=team_admin, team=team, user=viewer, role="reviewer")

    assert Membership.objects.get(team=team, user=viewer).role == "reviewer"
    event = last_event()
    assert event.before == {"role": "viewer"}
    assert event.after == {"user": "victor", "team": "fraud-team", "role": "reviewer"}


def test_an_unchanged_role_writes_no_event(team_admin, team, viewer):
    set_membership(actor=team_admin, team=team, user=viewer, role="viewer")

    assert last_event() is None


def test_a_superuser_manages_any_team(superuser, other_team, viewer):
    set_membership(actor=superuser, team=other_team, user=viewer, role="viewer")

    assert Membership.objects.filter(team=other_team, user=viewer).exists()
    assert_chain_intact(expected_events=1)


@pytest.mark.parametrize("persona", ["contributor", "viewer", "outsider"])
def test_it_refuses_membership_changes_by_non_admins(request, persona, team):
    actor = request.getfixturevalue(persona)
    newcomer = make_user("nina")
    before = row_counts()

    with pytest.raises(NotAllowed) as exc:
        set_membership(actor=actor, team=team, user=newcomer, role="admin")

    assert exc.value.message == "Only admins of team 'Fraud' can change its members."
    assert row_counts() == before


def test_it_refuses_an_unknown_role(team_admin, team):
    newcomer = make_user("nina")
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        set_membership(actor=team_admin, team=team, user=newcomer, role="owner")

    assert exc.value.field == "role"
    assert row_counts() == before
