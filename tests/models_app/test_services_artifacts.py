"""attach_artifact and open_verified_artifact against the in-memory artefact storage."""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile

from models_app import services
from models_app.models import Artifact
from models_app.services import (
    HASH_CHUNK_SIZE,
    ArtifactCorrupted,
    NotAllowed,
    RegistryError,
    archive_model,
    attach_artifact,
    open_verified_artifact,
    register_version,
)
from tests.factories import make_artifact_row
from tests.models_app.ledger import assert_chain_intact, last_event, row_counts, stored_names

WEIGHTS = b"\x00\x01weights" * 100


def content_key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


@pytest.fixture
def version(contributor, registered_model):
    return register_version(actor=contributor, model=registered_model)


def test_it_stores_an_artefact_hashed_and_content_addressed(contributor, version, artifact_store):
    artifact = attach_artifact(
        actor=contributor,
        version=version,
        path="weights/model.bin",
        content=ContentFile(WEIGHTS),
        kind=Artifact.Kind.WEIGHTS,
    )

    artifact.refresh_from_db()
    assert artifact.version == version
    assert artifact.path == "weights/model.bin"
    assert artifact.kind == "weights"
    assert artifact.size == len(WEIGHTS)
    assert artifact.sha256 == hashlib.sha256(WEIGHTS).hexdigest()
    assert artifact.storage_key == content_key(WEIGHTS)
    assert artifact.created_by == contributor
    assert stored_names(artifact_store) == [content_key(WEIGHTS)]
    with artifact_store.open(artifact.storage_key, "rb") as stored:
        assert stored.read() == WEIGHTS

    event = last_event()
    assert event.action == "models_app.artifact.attached"
    assert event.object_type == "models_app.Artifact"
    assert event.model_name == "fraud-detector"
    assert event.version_number == 1
    assert event.after == {
        "path": "weights/model.bin",
        "kind": "weights",
        "size": len(WEIGHTS),
        "sha256": hashlib.sha256(WEIGHTS).hexdigest(),
    }
    assert_chain_intact(expected_events=2)


def test_it_guesses_the_content_type_from_the_path(contributor, version):
    artifact = attach_artifact(
        actor=contributor, version=version, path="config.json", content=io.BytesIO(b"{}")
    )

    assert artifact.content_type == "application/json"


def test_it_stores_equal_bytes_once(contributor, registered_model, version, artifact_store):
    second = register_version(actor=contributor, model=registered_model)

    first_row = attach_artifact(
        actor=contributor, version=version, path="model.bin", content=ContentFile(WEIGHTS)
    )
    second_row = attach_artifact(
        actor=contributor, version=second, path="copy/model.bin", content=io.BytesIO(WEIGHTS)
    )

    assert first_row.pk != second_row.pk
    assert first_row.storage_key == second_row.storage_key == content_key(WEIGHTS)
    assert stored_names(artifact_store) == [content_key(WEIGHTS)]
    assert_chain_intact(expected_events=4)


class ChunkOnlyReader(io.BytesIO):
    """An upload that fails the test if anyone asks for all of it at once."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.read_sizes: list[int] = []

    def read(self, size=-1):
        assert size is not None and 0 < size <= HASH_CHUNK_SIZE, f"read({size}) reads it whole"
        self.read_sizes.append(size)
        return super().read(size)


def test_it_reads_the_upload_in_chunks(contributor, version):
    data = bytes(range(256)) * (HASH_CHUNK_SIZE // 256) * 2 + b"tail"
    upload = ChunkOnlyReader(data)

    artifact = attach_artifact(actor=contributor, version=version, path="big.bin", content=upload)

    assert len(upload.read_sizes) >= 3
    assert artifact.size == len(data)
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("../x", "path_traversal"),
        ("weights/../../x", "path_traversal"),
        ("/etc/passwd", "absolute_path"),
        ("C:\\x", "absolute_path"),
        ("c:/x", "absolute_path"),
        ("a\\b", "absolute_path"),
        ("a//b", "path_traversal"),
        ("a/./b", "path_traversal"),
        ("a/", "path_traversal"),
        ("", "empty_path"),
        ("a\nb", "invalid_path_characters"),
        ("x" * 501, "path_too_long"),
    ],
)
def test_it_refuses_a_path_that_could_escape(contributor, version, artifact_store, path, code):
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        attach_artifact(actor=contributor, version=version, path=path, content=ContentFile(b"x"))

    assert exc.value.field == "path"
    assert exc.value.code == code
    assert exc.value.message
    assert row_counts() == before
    assert stored_names(artifact_store) == []


def test_it_refuses_an_upload_over_the_limit(contributor, version, artifact_store, settings):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 10
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        attach_artifact(
            actor=contributor, version=version, path="big.bin", content=ContentFile(b"x" * 11)
        )

    assert exc.value.code == "too_large"
    assert exc.value.field == "file"
    assert exc.value.message == "The file is larger than the upload limit of 10 bytes."
    assert row_counts() == before
    assert stored_names(artifact_store) == []


def test_it_accepts_an_upload_of_exactly_the_limit(contributor, version, settings):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 10

    artifact = attach_artifact(
        actor=contributor, version=version, path="ok.bin", content=ContentFile(b"x" * 10)
    )

    assert artifact.size == 10


def test_it_refuses_an_unknown_kind(contributor, version, artifact_store):
    with pytest.raises(RegistryError) as exc:
        attach_artifact(
            actor=contributor, version=version, path="m.bin", content=ContentFile(b"x"), kind="exe"
        )

    assert exc.value.field == "kind"
    assert not Artifact.objects.exists()
    assert stored_names(artifact_store) == []


def test_it_refuses_a_second_artefact_at_the_same_path(contributor, version, artifact_store):
    attach_artifact(actor=contributor, version=version, path="m.bin", content=ContentFile(b"one"))
    before = row_counts()

    with pytest.raises(RegistryError) as exc:
        attach_artifact(
            actor=contributor, version=version, path="m.bin", content=ContentFile(b"two")
        )

    assert exc.value.code == "duplicate"
    assert row_counts() == before
    assert stored_names(artifact_store) == [content_key(b"one")]


def test_a_lost_race_for_the_path_leaves_no_row_and_no_object(
    contributor, version, artifact_store, monkeypatch
):
    real_save = artifact_store.save

    def save_then_lose_the_race(name, content, **kwargs):
        saved = real_save(name, content, **kwargs)
        # Another request claims the same path between our check and our insert.
        make_artifact_row(version, path="m.bin")
        return saved

    monkeypatch.setattr(artifact_store, "save", save_then_lose_the_race)

    with pytest.raises(RegistryError) as exc:
        attach_artifact(actor=contributor, version=version, path="m.bin", content=ContentFile(b"z"))

    assert exc.value.code == "duplicate"
    assert list(Artifact.objects.values_list("storage_key", flat=True)) == [
        "sha256/00/00/" + "0" * 64
    ]
    assert stored_names(artifact_store) == []
    assert last_event().action == "models_app.version.registered"


def test_a_failed_database_write_leaves_no_row_and_no_object(
    contributor, version, artifact_store, monkeypatch
):
    def broken_ledger(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record_event", broken_ledger)

    with pytest.raises(RuntimeError):
        attach_artifact(actor=contributor, version=version, path="m.bin", content=ContentFile(b"z"))

    assert not Artifact.objects.exists()
    assert stored_names(artifact_store) == []
    assert_chain_intact(expected_events=1)


def test_a_failed_write_keeps_bytes_another_artefact_uses(
    contributor, registered_model, version, artifact_store, monkeypatch
):
    kept = attach_artifact(
        actor=contributor, version=version, path="m.bin", content=ContentFile(WEIGHTS)
    )
    second = register_version(actor=contributor, model=registered_model)

    def broken_ledger(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record_event", broken_ledger)

    with pytest.raises(RuntimeError):
        attach_artifact(
            actor=contributor, version=second, path="m.bin", content=ContentFile(WEIGHTS)
        )

    assert list(Artifact.objects.all()) == [kept]
    assert stored_names(artifact_store) == [content_key(WEIGHTS)]
    assert open_verified_artifact(kept).read() == WEIGHTS


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_it_refuses_uploads_without_the_contributor_role(request, persona, version, artifact_store):
    actor = request.getfixturevalue(persona)
    before = row_counts()

    with pytest.raises(NotAllowed):
        attach_artifact(actor=actor, version=version, path="m.bin", content=ContentFile(b"x"))

    assert row_counts() == before
    assert stored_names(artifact_store) == []


def test_it_refuses_uploads_to_an_archived_model(
    contributor, registered_model, version, artifact_store
):
    archive_model(actor=contributor, model=registered_model)

    with pytest.raises(RegistryError) as exc:
        attach_artifact(actor=contributor, version=version, path="m.bin", content=ContentFile(b"x"))

    assert "archived" in exc.value.message
    assert not Artifact.objects.exists()
    assert stored_names(artifact_store) == []


# --- download ------------------------------------------------------------------------------


def test_it_returns_the_verified_bytes(contributor, version):
    artifact = attach_artifact(
        actor=contributor, version=version, path="m.bin", content=ContentFile(WEIGHTS)
    )

    with open_verified_artifact(artifact) as download:
        assert download.read() == WEIGHTS


def test_it_stops_a_download_whose_bytes_were_tampered_with(contributor, version, artifact_store):
    artifact = attach_artifact(
        actor=contributor, version=version, path="m.bin", content=ContentFile(WEIGHTS)
    )
    artifact_store.delete(artifact.storage_key)
    artifact_store.save(artifact.storage_key, ContentFile(WEIGHTS[:-1] + b"!"))

    with pytest.raises(ArtifactCorrupted) as exc:
        open_verified_artifact(artifact)

    assert exc.value.code == "checksum_mismatch"
    assert "do not match their recorded sha256" in exc.value.message


def test_it_reports_missing_bytes_as_corruption(contributor, version, artifact_store):
    artifact = attach_artifact(
        actor=contributor, version=version, path="m.bin", content=ContentFile(WEIGHTS)
    )
    artifact_store.delete(artifact.storage_key)

    with pytest.raises(ArtifactCorrupted) as exc:
        open_verified_artifact(artifact)

    assert exc.value.message == "The stored bytes of 'm.bin' are missing."
