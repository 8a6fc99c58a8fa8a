"""register_version, update_version_card and log_metrics."""

import math

import pytest

from models_app.models import Dataset, Metric, ModelVersion, VersionDataset
from models_app.services import (
    NotAllowed,
    RegistryError,
    archive_model,
    log_metrics,
    register_version,
    update_version_card,
)
from tests.factories import make_model, make_version
from tests.models_app.ledger import assert_chain_intact, last_event, row_counts


@pytest.fixture
def version(contributor, registered_model):
    return register_version(actor=contributor, model=registered_model, framework="sklearn")


# --- register_version ----------------------------------------------------------------------


def test_it_numbers_versions_one_two_three(contributor, registered_model):
    numbers = [
        register_version(actor=contributor, model=registered_model).version for _ in range(3)
    ]

    assert numbers == [1, 2, 3]
    registered_model.refresh_from_db()
    assert registered_model.latest_version == 3
    assert_chain_intact(expected_events=3)


def test_each_model_has_its_own_numbering(contributor, team, registered_model):
    other = make_model("churn", team=team)

    register_version(actor=contributor, model=registered_model)
    register_version(actor=contributor, model=registered_model)
    first_of_other = register_version(actor=contributor, model=other)
    third = register_version(actor=contributor, model=registered_model)

    assert first_of_other.version == 1
    assert third.version == 3


def test_it_never_reuses_a_number_after_a_version_row_is_gone(contributor, registered_model):
    register_version(actor=contributor, model=registered_model)
    register_version(actor=contributor, model=registered_model)
    # Ops may remove a row by hand; the number it had must stay spent.
    ModelVersion.objects.filter(model=registered_model, version=2).delete()

    following = register_version(actor=contributor, model=registered_model)

    assert following.version == 3


def test_it_keeps_the_callers_instance_in_step(contributor, registered_model):
    register_version(actor=contributor, model=registered_model)

    assert registered_model.latest_version == 1


def test_it_registers_lineage_datasets_and_hyperparameters(contributor, registered_model):
    base = register_version(actor=contributor, model=registered_model)

    version = register_version(
        actor=contributor,
        model=registered_model,
        framework="pytorch",
        framework_version="2.4",
        architecture="ResNet-50",
        source_uri="git+https://example.org/fraud@abc123",
        hyperparameters={"lr": 0.001, "epochs": 10},
        parent=base,
        external_base_model="hf://microsoft/resnet-50",
        datasets=[
            {"name": "transactions", "version": "2024-06", "uri": "s3://d/t", "role": "training"},
            {"name": "holdout", "role": "evaluation", "digest": "sha256:abc"},
        ],
        intended_use="Scoring card payments.",
        tags=["Vision", "cnn"],
    )

    version.refresh_from_db()
    assert version.version == 2
    assert version.parent == base
    assert version.created_by == contributor
    assert version.hyperparameters == {"lr": 0.001, "epochs": 10}
    assert version.intended_use == "Scoring card payments."
    links = {(link.dataset.name, link.role) for link in version.dataset_links.all()}
    assert links == {("transactions", "training"), ("holdout", "evaluation")}
    assert sorted(version.tags.values_list("name", flat=True)) == ["cnn", "vision"]

    event = last_event()
    assert event.action == "models_app.version.registered"
    assert event.object_type == "models_app.ModelVersion"
    assert event.model_name == "fraud-detector"
    assert event.version_number == 2
    assert event.after["parent"] == "fraud-detector v1"
    assert event.after["hyperparameters"] == {"lr": 0.001, "epochs": 10}
    assert event.after["tags"] == ["cnn", "vision"]
    assert [d["name"] for d in event.after["datasets"]] == ["transactions", "holdout"]
    assert_chain_intact(expected_events=2)


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_registration_without_the_contributor_role(request, persona, registered_model):
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed) as exc:
        register_version(actor=actor, model=registered_model)

    assert "contributor role" in exc.value.message
    assert row_counts() == before
    registered_model.refresh_from_db()
    assert registered_model.latest_version == 0


def test_it_refuses_a_parent_the_actor_cannot_see(outsider, other_team, restricted_model):
    hidden_parent = make_version(restricted_model)
    own_model = make_model("vision-model", team=other_team)
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        register_version(actor=outsider, model=own_model, parent=hidden_parent)

    assert exc.value.field == "parent"
    assert exc.value.message == "The parent version does not exist."
    assert row_counts() == before


@pytest.mark.parametrize(
    ("datasets", "message"),
    [
        ([{"name": "ok"}, {"name": ""}], "Dataset #2 has no name."),
        ([{"name": "x" * 201}], "Dataset #1: the name is too long."),
        ([{"name": "eval", "role": "cheating"}], "Dataset #1 ('eval'): role must be one of"),
    ],
)
def test_it_refuses_bad_datasets_and_writes_nothing(
    contributor, registered_model, datasets, message
):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        register_version(actor=contributor, model=registered_model, datasets=datasets)

    assert exc.value.message.startswith(message)
    assert exc.value.field == "datasets"
    assert row_counts() == before


def test_a_refused_registration_does_not_spend_a_number(contributor, registered_model):
    with pytest.raises(RegistryError) as exc:
        register_version(actor=contributor, model=registered_model, framework="cobol")

    assert "cobol" in exc.value.message
    assert row_counts()["ModelVersion"] == 0
    assert last_event() is None

    version = register_version(actor=contributor, model=registered_model)

    assert version.version == 1
    assert_chain_intact(expected_events=1)


def test_it_refuses_to_register_on_an_archived_model(contributor, registered_model):
    archive_model(actor=contributor, model=registered_model)
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        register_version(actor=contributor, model=registered_model)

    assert exc.value.message == "fraud-detector is archived; restore it before changing it."
    assert row_counts() == before
    assert_chain_intact(expected_events=1)


# --- update_version_card -------------------------------------------------------------------


def test_it_updates_the_model_card(contributor, version):
    update_version_card(
        actor=contributor,
        version=version,
        intended_use="Fraud scoring.",
        limitations="Not for loans.",
        description="",  # unchanged
        tags=["reviewed"],
    )

    version.refresh_from_db()
    assert version.intended_use == "Fraud scoring."
    assert version.limitations == "Not for loans."
    assert list(version.tags.values_list("name", flat=True)) == ["reviewed"]
    event = last_event()
    assert event.action == "models_app.version.card_updated"
    assert event.version_number == 1
    assert event.before == {"intended_use": "", "limitations": "", "tags": []}
    assert event.after == {
        "intended_use": "Fraud scoring.",
        "limitations": "Not for loans.",
        "tags": ["reviewed"],
    }
    assert_chain_intact(expected_events=2)


def test_an_unchanged_card_writes_no_event(contributor, version):
    update_version_card(actor=contributor, version=version, description="")

    assert last_event().action == "models_app.version.registered"


def test_it_refuses_fields_outside_the_card(contributor, version):
    with pytest.raises(RegistryError) as exc:
        update_version_card(actor=contributor, version=version, framework="jax", version_no=9)

    assert exc.value.message == "These fields cannot be changed here: framework, version_no."
    version.refresh_from_db()
    assert version.framework == "sklearn"


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_card_edits_without_the_contributor_role(request, persona, version):
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed):
        update_version_card(actor=actor, version=version, limitations="defaced")

    version.refresh_from_db()
    assert version.limitations == ""
    assert row_counts() == before


# --- log_metrics ---------------------------------------------------------------------------


def test_it_logs_a_batch_of_metrics(contributor, version):
    rows = log_metrics(
        actor=contributor,
        version=version,
        metrics=[
            {"key": "auc", "value": 0.91},
            {"key": "latency_p95 ms", "value": 42, "slice": " eval "},
            {"key": "loss", "value": 0.3, "step": 10},
        ],
    )

    assert len(rows) == 3
    stored = {(m.key, m.value, m.step, m.slice) for m in Metric.objects.filter(version=version)}
    assert stored == {
        ("auc", 0.91, None, ""),
        ("latency_p95 ms", 42.0, None, "eval"),
        ("loss", 0.3, 10, ""),
    }
    event = last_event()
    assert event.action == "models_app.version.metrics_logged"
    assert event.version_number == 1
    assert event.after["metrics"][1] == {
        "key": "latency_p95 ms",
        "value": 42.0,
        "step": None,
        "slice": "eval",
    }
    assert_chain_intact(expected_events=2)


@pytest.mark.parametrize(
    ("bad_entry", "message"),
    [
        ({"key": "auc", "value": math.nan}, "Metric #2 ('auc'): the value must be a finite"),
        ({"key": "auc", "value": math.inf}, "Metric #2 ('auc'): the value must be a finite"),
        ({"key": "auc", "value": -math.inf}, "Metric #2 ('auc'): the value must be a finite"),
        ({"key": "auc", "value": "0.9"}, "Metric #2 ('auc'): the value '0.9' is not a number"),
        ({"key": "auc", "value": True}, "Metric #2 ('auc'): the value True is not a number"),
        ({"key": "auc", "value": None}, "Metric #2 ('auc'): the value None is not a number"),
        ({"key": "a" * 129, "value": 1.0}, "Metric #2: the key is longer than 128 characters"),
        ({"key": "auc<script>", "value": 1.0}, "Metric #2 ('auc<script>'): keys may contain"),
        ({"key": "", "value": 1.0}, "Metric #2: the key is missing"),
        ({"value": 1.0}, "Metric #2: the key is missing"),
        ({"key": "auc", "value": 1.0, "step": -1}, "Metric #2 ('auc'): the step must be zero"),
        ({"key": "auc", "value": 1.0, "step": 1.5}, "Metric #2 ('auc'): the step 1.5 is not"),
        ({"key": "auc", "value": 1.0, "step": True}, "Metric #2 ('auc'): the step True is not"),
        ({"key": "auc", "value": 1.0, "slice": "s" * 201}, "Metric #2 ('auc'): the slice"),
    ],
)
def test_it_refuses_the_whole_batch_when_one_entry_is_bad(contributor, version, bad_entry, message):
    batch = [{"key": "accuracy", "value": 0.9}, bad_entry, {"key": "f1", "value": 0.8}]
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        log_metrics(actor=contributor, version=version, metrics=batch)

    assert exc.value.message.startswith(message)
    assert exc.value.field == "metrics"
    assert row_counts() == before
    assert not Metric.objects.exists()
    assert_chain_intact(expected_events=1)


def test_it_accepts_a_key_of_exactly_128_characters(contributor, version):
    log_metrics(actor=contributor, version=version, metrics=[{"key": "k" * 128, "value": 1}])

    assert Metric.objects.get().key == "k" * 128


def test_it_refuses_an_empty_batch(contributor, version):
    with pytest.raises(RegistryError) as exc:
        log_metrics(actor=contributor, version=version, metrics=[])

    assert exc.value.message == "No metrics were given."
    assert last_event().action == "models_app.version.registered"


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_metrics_without_the_contributor_role(request, persona, version):
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed):
        log_metrics(actor=actor, version=version, metrics=[{"key": "auc", "value": 0.5}])

    assert row_counts() == before


def test_it_refuses_metrics_on_an_archived_model(contributor, registered_model, version):
    archive_model(actor=contributor, model=registered_model)
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        log_metrics(actor=contributor, version=version, metrics=[{"key": "auc", "value": 0.5}])

    assert exc.value.message == "fraud-detector is archived; restore it before changing it."
    assert row_counts() == before
    assert_chain_intact(expected_events=2)


def test_dataset_links_are_reused_not_duplicated(contributor, registered_model):
    for _ in range(2):
        register_version(
            actor=contributor,
            model=registered_model,
            datasets=[{"name": "transactions", "version": "2024-06"}],
        )

    assert VersionDataset.objects.count() == 2
    assert row_counts()["Dataset"] == 1


def test_it_refuses_a_known_dataset_version_with_a_different_digest(contributor, registered_model):
    first = {
        "name": "transactions",
        "version": "2024-06",
        "digest": "sha256:aaa",
        "role": "training",
    }
    register_version(actor=contributor, model=registered_model, datasets=[first])
    changed = {**first, "digest": "sha256:bbb"}

    with pytest.raises(RegistryError, match="already registered with digest sha256:aaa"):
        register_version(actor=contributor, model=registered_model, datasets=[changed])

    assert registered_model.versions.count() == 1
    assert Dataset.objects.get(name="transactions").digest == "sha256:aaa"


def test_the_card_of_an_archived_model_cannot_change(contributor, registered_model):
    version = register_version(actor=contributor, model=registered_model)
    archive_model(actor=contributor, model=registered_model)

    with pytest.raises(RegistryError, match="archived"):
        update_version_card(actor=contributor, version=version, limitations="New text")

    version.refresh_from_db()
    assert version.limitations == ""
