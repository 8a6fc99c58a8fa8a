"""Key/value tags (the MLflow client's): registry tags when value-less, properties otherwise."""

import pytest
from django.utils import timezone

from models_app.models import AuditEvent, RegisteredModel
from models_app.services import (
    NotAllowed,
    RegistryError,
    create_model,
    delete_tag,
    register_version,
    set_tag,
    split_tags,
)
from tests.factories import make_version


def test_split_tags_keeps_every_tag_that_is_not_a_plain_tag_name_verbatim():
    names, properties = split_tags(
        {"gpu": "", "GPU": "", "owner": "Risk Team", "mlflow.source": "", "team-a": None}
    )

    assert names == ["gpu", "team-a"]
    assert properties == {"GPU": "", "mlflow.source": "", "owner": "Risk Team"}


@pytest.mark.parametrize(
    "tags", [{"": "x"}, {"k" * 251: "x"}, {"k": "v" * 5001}, {"k": 3}], ids=str
)
def test_split_tags_refuses_bad_keys_and_values(tags):
    with pytest.raises(RegistryError):
        split_tags(tags)


def test_create_model_and_register_version_store_properties_and_the_run(contributor, team):
    model = create_model(actor=contributor, name="m", team=team, properties={"owner": "risk"})
    version = register_version(
        actor=contributor,
        model=model,
        source_uri="s3://b/m",
        run_id="r1",
        run_link="https://tracking/r1",
        properties={"framework": "sklearn"},
    )

    assert RegisteredModel.objects.get(name="m").properties == {"owner": "risk"}
    version.refresh_from_db()
    assert (version.run_id, version.run_link) == ("r1", "https://tracking/r1")
    assert version.properties == {"framework": "sklearn"}
    event = AuditEvent.objects.get(action="models_app.version.registered")
    assert event.after["run_id"] == "r1"
    assert event.after["properties"] == {"framework": "sklearn"}


def test_set_tag_moves_a_key_between_registry_tag_and_property(contributor, registered_model):
    set_tag(actor=contributor, target=registered_model, key="gpu")
    set_tag(actor=contributor, target=registered_model, key="gpu", value="a100")

    registered_model.refresh_from_db()
    assert registered_model.tags.count() == 0
    assert registered_model.properties == {"gpu": "a100"}

    set_tag(actor=contributor, target=registered_model, key="gpu", value="")
    registered_model.refresh_from_db()
    assert list(registered_model.tags.values_list("name", flat=True)) == ["gpu"]
    assert registered_model.properties == {}
    events = AuditEvent.objects.filter(action="models_app.model.updated").order_by("sequence")
    assert [event.after for event in events] == [
        {"tags": ["gpu"]},
        {"tags": [], "properties": {"gpu": "a100"}},
        {"tags": ["gpu"], "properties": {}},
    ]


def test_setting_the_same_tag_again_writes_no_event(contributor, registered_model):
    set_tag(actor=contributor, target=registered_model, key="owner", value="risk")
    set_tag(actor=contributor, target=registered_model, key="owner", value="risk")

    assert AuditEvent.objects.filter(action="models_app.model.updated").count() == 1


def test_delete_tag_removes_either_kind_and_refuses_a_missing_one(contributor, registered_model):
    version = make_version(registered_model)
    set_tag(actor=contributor, target=version, key="eval", value="ok")
    set_tag(actor=contributor, target=version, key="cnn")

    delete_tag(actor=contributor, target=version, key="eval")
    delete_tag(actor=contributor, target=version, key="cnn")

    version.refresh_from_db()
    assert version.properties == {} and version.tags.count() == 0
    with pytest.raises(RegistryError) as missing:
        delete_tag(actor=contributor, target=version, key="cnn")
    assert missing.value.code == "not_found"
    assert AuditEvent.objects.filter(action="models_app.version.card_updated").count() == 4


def test_tags_need_the_contributor_role_and_an_active_model(viewer, contributor, registered_model):
    with pytest.raises(NotAllowed):
        set_tag(actor=viewer, target=registered_model, key="k", value="v")
    RegisteredModel.objects.filter(pk=registered_model.pk).update(archived_at=timezone.now())
    with pytest.raises(RegistryError, match="archived"):
        set_tag(actor=contributor, target=registered_model, key="k", value="v")

    registered_model.refresh_from_db()
    assert registered_model.properties == {}
    assert not AuditEvent.objects.exists()
