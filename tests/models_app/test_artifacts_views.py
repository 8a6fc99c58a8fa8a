"""Uploading artefacts from the version page and downloading them, verified, again."""

import hashlib
import io
import logging
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from models_app import services
from models_app.models import Artifact
from tests.factories import make_version
from tests.models_app.ledger import row_counts, stored_names

PAYLOAD = bytes(range(256)) * 40 + b"\x00\xff end"


@pytest.fixture
def version(registered_model):
    return make_version(registered_model)


def upload_url(version):
    return reverse("models_app:artifact_upload", args=[version.model.name, version.version])


def download_url(version, path):
    return reverse("models_app:artifact_download", args=[version.model.name, version.version, path])


def upload(client, version, content=PAYLOAD, name="model.bin", **data):
    data.setdefault("path", "")
    data.setdefault("kind", "weights")
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(upload_url(version), {"file": file, **data})


def attach(version, actor, path="weights/model.bin", content=PAYLOAD):
    return services.attach_artifact(
        actor=actor, version=version, path=path, content=io.BytesIO(content)
    )


# --- upload and download -------------------------------------------------------------------


def test_an_uploaded_file_downloads_byte_identical_with_safe_headers(
    client, contributor, version, artifact_store
):
    client.force_login(contributor)

    response = upload(client, version, path="weights/model.bin")

    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url() + "?tab=artifacts"
    artifact = Artifact.objects.get(version=version)
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    assert (artifact.path, artifact.kind, artifact.size, artifact.sha256) == (
        "weights/model.bin",
        "weights",
        len(PAYLOAD),
        sha,
    )
    assert artifact.created_by == contributor
    assert stored_names(artifact_store) == [artifact.storage_key]

    download = client.get(download_url(version, "weights/model.bin"))

    assert download.status_code == 200
    assert download.streaming
    assert b"".join(download.streaming_content) == PAYLOAD
    assert download["Content-Disposition"] == 'attachment; filename="model.bin"'
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Length"] == str(len(PAYLOAD))
    assert download["ETag"] == f'"{sha}"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "private" in download["Cache-Control"]


def test_the_path_defaults_to_the_files_name(client, contributor, version):
    client.force_login(contributor)

    upload(client, version, name="config.json", content=b'{"layers": 12}', kind="config")

    artifact = Artifact.objects.get(version=version)
    assert artifact.path == "config.json"
    assert artifact.content_type == "application/json"
    download = client.get(download_url(version, "config.json"))
    assert download["Content-Type"] == "application/json"


def test_the_same_digest_is_not_sent_again(client, contributor, version):
    attach(version, contributor)
    client.force_login(contributor)
    etag = f'"{hashlib.sha256(PAYLOAD).hexdigest()}"'

    response = client.get(
        download_url(version, "weights/model.bin"), headers={"If-None-Match": etag}
    )

    assert response.status_code == 304
    assert response["ETag"] == etag


def test_the_upload_form_shows_the_size_limit(client, contributor, version, settings):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    client.force_login(contributor)

    assert "At most 5.0 MB per file." in client.get(upload_url(version)).content.decode()


# --- refused uploads -----------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_without_a_row_or_a_stored_object(
    client, contributor, version, settings, artifact_store
):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 1000
    client.force_login(contributor)
    before = row_counts()

    response = upload(client, version, content=b"x" * 1001)

    assert response.status_code == 200
    assert "larger than the upload limit of 1,000 bytes" in str(
        response.context["form"].errors["file"]
    )
    assert row_counts() == before
    assert stored_names(artifact_store) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    contributor, version, settings, artifact_store
):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 1000
    # With CSRF enforced as in production, nothing may parse the body: not the middleware,
    # not the view.
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)
    before = row_counts()

    with mock.patch(
        "django.http.multipartparser.MultiPartParser.parse",
        side_effect=AssertionError("the body was parsed"),
    ):
        response = upload(client, version, content=b"x" * 200_000)

    assert response.status_code == 413
    assert "larger than the limit of 1000 B" in response.content.decode()
    assert row_counts() == before
    assert stored_names(artifact_store) == []


def test_uploads_still_need_the_csrf_token(contributor, version):
    client = Client(enforce_csrf_checks=True)
    client.force_login(contributor)

    response = upload(client, version)

    assert response.status_code == 403
    assert not Artifact.objects.exists()


@pytest.mark.parametrize(
    "path", ["../x", "weights/../../etc/passwd", "/etc/passwd", "C:/boot.ini", "a\\b", "a//b"]
)
def test_a_path_outside_the_version_is_refused(client, contributor, version, artifact_store, path):
    client.force_login(contributor)
    before = row_counts()

    response = upload(client, version, path=path)

    assert response.status_code == 200
    assert response.context["form"].errors["path"]
    assert row_counts() == before
    assert stored_names(artifact_store) == []


def test_a_path_used_twice_is_refused(client, contributor, version):
    attach(version, contributor, path="model.bin", content=b"first")
    client.force_login(contributor)

    response = upload(client, version, path="model.bin", content=b"second")

    assert response.status_code == 200
    assert "already has an artefact at" in str(response.context["form"].errors["path"])
    assert Artifact.objects.count() == 1


def test_a_missing_file_is_a_form_error(client, contributor, version):
    client.force_login(contributor)

    response = client.post(upload_url(version), {"path": "x.bin", "kind": "weights"})

    assert response.status_code == 200
    assert response.context["form"].errors["file"]


# --- verification on download --------------------------------------------------------------


def test_tampered_bytes_are_refused_with_409_and_logged(
    client, contributor, version, artifact_store, caplog
):
    artifact = attach(version, contributor)
    artifact_store.delete(artifact.storage_key)
    artifact_store.save(artifact.storage_key, ContentFile(b"tampered"))
    client.force_login(contributor)

    with caplog.at_level(logging.ERROR, logger="models_app.downloads"):
        response = client.get(download_url(version, "weights/model.bin"))

    assert response.status_code == 409
    assert not response.streaming
    assert "do not match their recorded sha256" in response.content.decode()
    assert "Content-Disposition" not in response
    assert any("weights/model.bin" in record.getMessage() for record in caplog.records)


def test_missing_bytes_are_refused_with_409(client, contributor, version, artifact_store):
    artifact = attach(version, contributor)
    artifact_store.delete(artifact.storage_key)
    client.force_login(contributor)

    response = client.get(download_url(version, "weights/model.bin"))

    assert response.status_code == 409
    assert "are missing" in response.content.decode()


# --- who may upload and download -----------------------------------------------------------


def test_outsiders_get_404_for_a_restricted_models_files(
    client, contributor, outsider, restricted_model
):
    version = make_version(restricted_model)
    attach(version, contributor)
    client.force_login(outsider)

    assert client.get(download_url(version, "weights/model.bin")).status_code == 404
    assert upload(client, version).status_code == 404
    assert Artifact.objects.count() == 1


def test_viewers_may_download_but_not_upload(client, contributor, viewer, version, artifact_store):
    attach(version, contributor)
    client.force_login(viewer)

    download = client.get(download_url(version, "weights/model.bin"))
    response = upload(client, version, path="other.bin", content=b"other")

    assert b"".join(download.streaming_content) == PAYLOAD
    assert response.status_code == 403
    assert Artifact.objects.count() == 1
    assert len(stored_names(artifact_store)) == 1


def test_an_unknown_path_is_404(client, contributor, version):
    attach(version, contributor)
    client.force_login(contributor)

    assert client.get(download_url(version, "weights/other.bin")).status_code == 404


def test_anonymous_downloads_are_sent_to_sign_in(client, contributor, version):
    attach(version, contributor)

    response = client.get(download_url(version, "weights/model.bin"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
