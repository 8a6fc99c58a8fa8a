"""/api/v1/…/artifacts/: multipart upload, listing, and verified download."""

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from models_app.models import Artifact
from tests.factories import make_version
from tests.models_app.api.test_authentication import assert_error

PAYLOAD = bytes(range(256)) * 64
URL = "/api/v1/models/fraud-detector/versions/1/artifacts/"


@pytest.fixture
def version(registered_model):
    return make_version(registered_model)


def upload(client, headers, content=PAYLOAD, name="model.bin", **fields):
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(URL, {"file": file, **fields}, headers=headers)


def test_an_uploaded_file_downloads_byte_identical(
    client, version, contributor, as_contributor, artifact_store
):
    response = upload(client, as_contributor, path="weights/model.bin", kind="weights")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["path"] == "weights/model.bin"
    assert body["kind"] == "weights"
    assert body["size"] == len(PAYLOAD)
    assert body["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    assert body["created_by"] == contributor.username
    assert body["download_url"] == f"http://testserver{URL}weights/model.bin"
    download = client.get(f"{URL}weights/model.bin", headers=as_contributor)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PAYLOAD
    assert download["ETag"] == f'"{body["sha256"]}"'
    assert 'filename="model.bin"' in download["Content-Disposition"]


def test_the_path_defaults_to_the_file_name(client, version, as_contributor):
    response = upload(client, as_contributor, name="config.json", content=b"{}")

    assert response.json()["path"] == "config.json"
    assert response.json()["kind"] == "other"
    assert response.json()["content_type"] == "application/json"


def test_a_client_holding_the_digest_gets_304(client, version, as_contributor):
    sha256 = upload(client, as_contributor).json()["sha256"]

    response = client.get(
        f"{URL}model.bin", headers={**as_contributor, "If-None-Match": f'"{sha256}"'}
    )

    assert response.status_code == 304


def test_a_download_answers_bytes_whatever_the_client_accepts(client, version, as_contributor):
    upload(client, as_contributor)

    response = client.get(
        f"{URL}model.bin", headers={**as_contributor, "Accept": "application/octet-stream"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path", ["../escape.bin", "weights/../../x", "/etc/passwd", "C:/x.bin", "a\\b.bin", "a//b"]
)
def test_a_path_that_could_escape_is_a_400(client, version, as_contributor, path, artifact_store):
    response = upload(client, as_contributor, path=path)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "path"
    assert not Artifact.objects.exists()
    assert artifact_store.listdir("")[1] == []


def test_an_oversized_upload_is_a_413_before_it_is_read(
    client, version, as_contributor, settings, artifact_store
):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 1024

    response = upload(client, as_contributor, content=b"x" * (70 * 1024))

    error = assert_error(response, 413, "too_large")
    assert error["field"] == "file"
    assert not Artifact.objects.exists()


def test_an_upload_just_over_the_limit_is_a_413_from_the_service(
    client, version, as_contributor, settings
):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 1024

    response = upload(client, as_contributor, content=b"x" * 1025)

    assert_error(response, 413, "too_large")
    assert not Artifact.objects.exists()


def test_a_second_file_at_the_same_path_is_a_409(client, version, as_contributor):
    upload(client, as_contributor)

    response = upload(client, as_contributor, content=b"other bytes")

    assert_error(response, 409, "duplicate")


def test_an_upload_without_a_file_is_a_400(client, version, as_contributor):
    response = client.post(URL, {"path": "x.bin"}, headers=as_contributor)

    error = assert_error(response, 400, "required")
    assert error["field"] == "file"


def test_frozen_evidence_takes_no_more_files(client, version, as_contributor):
    version.evidence_locked_at = timezone.now()
    version.save()

    assert_error(upload(client, as_contributor), 409, "evidence_locked")


def test_upload_and_download_permissions_follow_the_web(
    client, version, restricted_model, contributor, as_viewer, as_outsider, bearer
):
    make_version(restricted_model)
    hidden = "/api/v1/models/secret-scorer/versions/1/artifacts/"
    assert upload(client, bearer(contributor)).status_code == 201

    assert_error(upload(client, as_viewer, path="v.bin"), 403, "permission_denied")
    assert client.get(f"{URL}model.bin", headers=as_viewer).status_code == 200
    assert client.get(f"{URL}model.bin", headers=as_outsider).status_code == 200
    assert_error(client.get(hidden, headers=as_outsider), 404, "not_found")
    file = SimpleUploadedFile("x.bin", b"x")
    assert_error(client.post(hidden, {"file": file}, headers=as_outsider), 404, "not_found")
    assert_error(client.get(f"{URL}model.bin"), 401, "not_authenticated")


def test_a_session_upload_needs_the_csrf_token(contributor, version):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(contributor)

    response = browser.post(URL, {"file": SimpleUploadedFile("m.bin", b"x")})

    assert_error(response, 403, "permission_denied")
    assert not Artifact.objects.exists()


def test_tampered_bytes_are_refused_with_a_json_409(
    client, version, as_contributor, artifact_store
):
    storage_key = Artifact.objects.get(path=upload(client, as_contributor).json()["path"])
    artifact_store.delete(storage_key.storage_key)
    artifact_store.save(storage_key.storage_key, ContentFile(b"tampered"))

    response = client.get(f"{URL}model.bin", headers=as_contributor)

    error = assert_error(response, 409, "checksum_mismatch")
    assert "do not match their recorded sha256" in error["message"]


def test_a_missing_artefact_is_a_404(client, version, as_contributor):
    assert_error(client.get(f"{URL}nothing.bin", headers=as_contributor), 404, "not_found")


def test_the_artefact_list_costs_the_same_queries_however_many_files(
    client, version, as_viewer, as_contributor, django_assert_max_num_queries,
    django_assert_num_queries,
):  # fmt: skip
    upload(client, as_contributor, path="a.bin")
    client.get(URL, headers=as_viewer)
    # token, model, version, count, page of artefacts with their creators
    with django_assert_max_num_queries(5) as first:
        client.get(URL, headers=as_viewer)
    # Each request resets the connection's query log, so count now.
    expected = len(first.captured_queries)
    for index in range(4):
        upload(client, as_contributor, path=f"more/{index}.bin", content=bytes([index]))
    with django_assert_num_queries(expected):
        assert client.get(URL, headers=as_viewer).json()["count"] == 5
