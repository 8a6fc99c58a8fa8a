"""create_model, update_model, archive_model, restore_model and who sees which model."""

import pytest
from django.contrib.auth.models import AnonymousUser

from models_app.models import RegisteredModel
from models_app.services import (
    NotAllowed,
    RegistryError,
    archive_model,
    create_model,
    restore_model,
    update_model,
)
from tests.factories import add_member, make_user
from tests.models_app.ledger import assert_chain_intact, last_event, row_counts

# --- create_model --------------------------------------------------------------------------


def test_it_creates_a_model_with_an_audit_event(contributor, team):
    model = create_model(
        actor=contributor,
        name="churn-predictor",
        team=team,
        display_name="Churn predictor",
        description="Predicts *churn*.",
        task=RegisteredModel.Task.CLASSIFICATION,
        risk_tier=RegisteredModel.RiskTier.LIMITED,
        tags=["Tabular", "tabular", " churn "],
    )

    model.refresh_from_db()
    assert model.name == "churn-predictor"
    assert model.team == team
    assert model.created_by == contributor
    assert model.task == "classification"
    assert model.risk_tier == "limited"
    assert model.latest_version == 0
    assert sorted(model.tags.values_list("name", flat=True)) == ["churn", "tabular"]

    event = last_event()
    assert event.action == "models_app.model.created"
    assert event.actor == contributor
    assert event.actor_username == "carol"
    assert event.object_type == "models_app.RegisteredModel"
    assert event.object_id == str(model.pk)
    assert event.model_name == "churn-predictor"
    assert event.before == {}
    assert event.after["team"] == "fraud-team"
    assert event.after["tags"] == ["churn", "tabular"]
    assert event.after["display_name"] == "Churn predictor"
    assert event.after["risk_tier"] == "limited"
    assert_chain_intact(expected_events=1)


def test_a_superuser_creates_models_in_any_team(superuser, team):
    model = create_model(actor=superuser, name="ops-model", team=team)

    assert model.pk is not None
    assert last_event().actor == superuser
    assert_chain_intact(expected_events=1)


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_creation_without_the_contributor_role(request, persona, team):
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed) as exc:
        create_model(actor=actor, name="sneaky", team=team)

    assert "contributor role" in exc.value.message
    assert row_counts() == before
    assert_chain_intact(expected_events=0)


@pytest.mark.parametrize("name", ["Bad Name", "-x", "x-", "a" * 101, "../x", "", "UPPER"])
def test_it_refuses_an_invalid_model_name(contributor, team, name):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        create_model(actor=contributor, name=name, team=team)

    assert exc.value.field == "name"
    assert "lower-case letters" in exc.value.message
    assert row_counts() == before
    assert_chain_intact(expected_events=0)


def test_it_refuses_a_name_that_a_registry_page_already_uses(contributor, team):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        create_model(actor=contributor, name="new", team=team)

    assert exc.value.field == "name"
    assert "reserved" in exc.value.message
    assert row_counts() == before


def test_it_accepts_a_name_of_exactly_one_hundred_characters(contributor, team):
    model = create_model(actor=contributor, name="a" * 100, team=team)

    assert len(model.name) == 100


def test_it_refuses_a_duplicate_name_without_a_second_row(contributor, team, registered_model):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        create_model(actor=contributor, name="fraud-detector", team=team)

    assert exc.value.code == "duplicate"
    assert exc.value.field == "name"
    assert "already exists" in exc.value.message
    assert RegisteredModel.objects.filter(name="fraud-detector").count() == 1
    assert row_counts() == before
    assert_chain_intact(expected_events=0)


def test_it_refuses_an_unknown_task(contributor, team):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        create_model(actor=contributor, name="odd-task", team=team, task="astrology")

    assert "astrology" in exc.value.message
    assert row_counts() == before


def test_it_refuses_a_bad_tag_and_writes_nothing(contributor, team):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        create_model(actor=contributor, name="tagged", team=team, tags=["ok", "not ok!"])

    assert exc.value.field == "tags"
    assert "'not ok!'" in exc.value.message
    assert row_counts() == before
    assert_chain_intact(expected_events=0)


# --- update_model --------------------------------------------------------------------------


def test_it_updates_a_model_and_audits_only_what_changed(contributor, registered_model):
    update_model(
        actor=contributor,
        model=registered_model,
        display_name="Fraud detector",  # unchanged
        description="Now with **Markdown**.",
        risk_tier=RegisteredModel.RiskTier.HIGH,
        tags=["payments"],
    )

    registered_model.refresh_from_db()
    assert registered_model.description == "Now with **Markdown**."
    assert registered_model.risk_tier == "high"
    assert list(registered_model.tags.values_list("name", flat=True)) == ["payments"]
    event = last_event()
    assert event.action == "models_app.model.updated"
    assert event.before == {"description": "", "risk_tier": "minimal", "tags": []}
    assert event.after == {
        "description": "Now with **Markdown**.",
        "risk_tier": "high",
        "tags": ["payments"],
    }
    assert_chain_intact(expected_events=1)


def test_an_update_that_changes_nothing_writes_no_event(contributor, registered_model):
    update_model(actor=contributor, model=registered_model, display_name="Fraud detector")

    assert last_event() is None
    assert_chain_intact(expected_events=0)


def test_it_records_the_responsible_person_by_name(contributor, registered_model):
    update_model(actor=contributor, model=registered_model, responsible=contributor)

    event = last_event()
    assert event.before == {"responsible": None}
    assert event.after == {"responsible": "carol"}


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_an_update_without_the_contributor_role(request, persona, registered_model):
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed):
        update_model(actor=actor, model=registered_model, description="defaced")

    registered_model.refresh_from_db()
    assert registered_model.description == ""
    assert row_counts() == before


def test_it_refuses_to_change_the_name_or_team(contributor, registered_model, other_team):
    with pytest.raises(RegistryError) as exc:
        update_model(actor=contributor, model=registered_model, name="renamed", team=other_team)

    assert exc.value.message == "These fields cannot be changed here: name, team."
    registered_model.refresh_from_db()
    assert registered_model.name == "fraud-detector"
    assert last_event() is None


def test_it_updates_a_model_whose_creator_account_is_gone(team):
    creator = make_user("leaver")
    add_member(creator, team, "contributor")
    model = create_model(actor=creator, name="orphaned", team=team)
    editor = make_user("stayer")
    add_member(editor, team, "contributor")
    creator.delete()

    update_model(actor=editor, model=model, description="still maintained")

    model.refresh_from_db()
    assert model.created_by is None
    assert model.description == "still maintained"
    assert last_event().action == "models_app.model.updated"
    assert_chain_intact(expected_events=2)


def test_it_refuses_an_invalid_value_and_keeps_the_old_one(contributor, registered_model):
    with pytest.raises(RegistryError) as exc:
        update_model(
            actor=contributor, model=registered_model, description="new", risk_tier="extreme"
        )

    assert "extreme" in exc.value.message
    registered_model.refresh_from_db()
    assert registered_model.description == ""
    assert registered_model.risk_tier == "minimal"
    assert last_event() is None


def test_it_refuses_to_update_an_archived_model(contributor, registered_model):
    archive_model(actor=contributor, model=registered_model)
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        update_model(actor=contributor, model=registered_model, description="late edit")

    assert "archived" in exc.value.message
    assert row_counts() == before


# --- archive_model / restore_model ---------------------------------------------------------


def test_it_archives_and_restores_a_model(contributor, registered_model):
    archived = archive_model(actor=contributor, model=registered_model, reason="replaced")

    assert archived.is_archived
    registered_model.refresh_from_db()
    assert registered_model.is_archived
    event = last_event()
    assert event.action == "models_app.model.archived"
    assert event.before == {"archived": False}
    assert event.after == {"archived": True, "reason": "replaced"}

    restored = restore_model(actor=contributor, model=registered_model)

    assert not restored.is_archived
    registered_model.refresh_from_db()
    assert registered_model.archived_at is None
    event = last_event()
    assert event.action == "models_app.model.restored"
    assert event.before == {"archived": True}
    assert event.after == {"archived": False}
    assert_chain_intact(expected_events=2)


def test_it_refuses_to_archive_twice(contributor, registered_model):
    archive_model(actor=contributor, model=registered_model)
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        archive_model(actor=contributor, model=registered_model)

    assert exc.value.message == "fraud-detector is already archived."
    assert row_counts() == before
    assert_chain_intact(expected_events=1)


def test_it_refuses_to_restore_an_active_model(contributor, registered_model):
    with pytest.raises(RegistryError) as exc:
        restore_model(actor=contributor, model=registered_model)

    assert exc.value.message == "fraud-detector is not archived."
    assert last_event() is None


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_archiving_without_the_contributor_role(request, persona, registered_model):
    actor = request.getfixturevalue(persona)

    with pytest.raises(NotAllowed):
        archive_model(actor=actor, model=registered_model)

    registered_model.refresh_from_db()
    assert not registered_model.is_archived
    assert last_event() is None


def test_it_refuses_restoring_without_the_contributor_role(contributor, viewer, registered_model):
    archive_model(actor=contributor, model=registered_model)

    with pytest.raises(NotAllowed):
        restore_model(actor=viewer, model=registered_model)

    registered_model.refresh_from_db()
    assert registered_model.is_archived
    assert_chain_intact(expected_events=1)


# --- who sees which model ------------------------------------------------------------------


def test_an_outsider_does_not_see_a_restricted_model(outsider, registered_model, restricted_model):
    visible = RegisteredModel.objects.visible_to(outsider)

    assert list(visible) == [registered_model]


def test_a_team_member_sees_the_teams_restricted_model(viewer, registered_model, restricted_model):
    visible = RegisteredModel.objects.visible_to(viewer)

    assert set(visible) == {registered_model, restricted_model}


def test_a_superuser_sees_every_model(superuser, registered_model, restricted_model):
    visible = RegisteredModel.objects.visible_to(superuser)

    assert set(visible) == {registered_model, restricted_model}


def test_a_user_without_teams_sees_only_unrestricted_models(registered_model, restricted_model):
    loner = make_user("lonely")

    assert list(RegisteredModel.objects.visible_to(loner)) == [registered_model]


def test_an_anonymous_user_sees_no_model(registered_model, restricted_model):
    assert not RegisteredModel.objects.visible_to(AnonymousUser()).exists()
