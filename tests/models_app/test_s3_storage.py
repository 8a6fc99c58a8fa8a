"""Artefacts through django-storages' S3 backend, over real HTTP to a local moto server."""

import hashlib
import socket
import uuid

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from models_app.models import Artifact
from models_app.services import (
    ArtifactCorrupted,
    RegistryError,
    attach_artifact,
    open_verified_artifact,
    register_version,
)

REGION = "us-east-1"
WEIGHTS = b"\x89weights for s3\x00" * 512


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint, monkeypatch, tmp_path):
    # Dummy credentials, and no config files, so boto never reaches for a real account.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)


@pytest.fixture
def bucket(s3_client, s3_endpoint, settings):
    """A fresh bucket per test (the server lives for the module), wired as the artefact store."""
    name = f"artifacts-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "storages.backends.s3.S3Storage",
            # The same options settings.py uses when ARTIFACT_S3_BUCKET is set.
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": REGION,
                "file_overwrite": False,
                "default_acl": None,
                "querystring_auth": True,
            },
        },
    }
    storages._storages.pop("artifacts", None)
    yield name
    storages._storages.pop("artifacts", None)


def object_keys(client, bucket_name: str) -> list[str]:
    listing = client.list_objects_v2(Bucket=bucket_name)
    return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture
def version(contributor, registered_model):
    return register_version(actor=contributor, model=registered_model)


def test_the_artefact_storage_is_s3(bucket):
    assert isinstance(storages["artifacts"], S3Storage)


def test_an_artefact_round_trips_through_s3(contributor, version, bucket, s3_client):
    artifact = attach_artifact(
        actor=contributor, version=version, path="weights/model.bin", content=ContentFile(WEIGHTS)
    )

    digest = hashlib.sha256(WEIGHTS).hexdigest()
    assert artifact.sha256 == digest
    assert object_keys(s3_client, bucket) == [f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"]
    stored = s3_client.get_object(Bucket=bucket, Key=artifact.storage_key)["Body"].read()
    assert stored == WEIGHTS
    with open_verified_artifact(artifact) as download:
        assert download.read() == WEIGHTS


def test_equal_bytes_become_one_s3_object(
    contributor, registered_model, version, bucket, s3_client
):
    second = register_version(actor=contributor, model=registered_model)

    first_row = attach_artifact(
        actor=contributor, version=version, path="model.bin", content=ContentFile(WEIGHTS)
    )
    second_row = attach_artifact(
        actor=contributor, version=second, path="model.bin", content=ContentFile(WEIGHTS)
    )

    assert first_row.storage_key == second_row.storage_key
    assert object_keys(s3_client, bucket) == [first_row.storage_key]
    with open_verified_artifact(second_row) as download:
        assert download.read() == WEIGHTS


def test_an_upload_over_the_limit_leaves_no_s3_object(
    contributor, version, bucket, s3_client, settings
):
    settings.ARTIFACT_MAX_UPLOAD_BYTES = 1024

    with pytest.raises(RegistryError) as exc:
        attach_artifact(
            actor=contributor, version=version, path="big.bin", content=ContentFile(WEIGHTS)
        )

    assert exc.value.code == "too_large"
    assert not Artifact.objects.exists()
    assert object_keys(s3_client, bucket) == []


def test_a_tampered_s3_object_is_refused_on_download(contributor, version, bucket, s3_client):
    artifact = attach_artifact(
        actor=contributor, version=version, path="model.bin", content=ContentFile(WEIGHTS)
    )
    s3_client.put_object(Bucket=bucket, Key=artifact.storage_key, Body=b"swapped")

    with pytest.raises(ArtifactCorrupted):
        open_verified_artifact(artifact)
