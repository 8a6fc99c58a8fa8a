"""registry-cli against a real server (pytest-django's live_server): real HTTP round trips."""

import hashlib
import json
import subprocess
import sys

import pytest

from models_app.models import Alias, Artifact, Metric, ModelVersion, RegisteredModel
from models_app.services import create_access_token
from registry_site import cli
from tests.factories import make_version


@pytest.fixture
def registry(live_server, contributor, monkeypatch):
    """Point the CLI at the live server, signed in with the contributor's token."""
    _, raw = create_access_token(actor=contributor, name="cli tests")
    monkeypatch.setenv("REGISTRY_URL", live_server.url)
    monkeypatch.setenv("REGISTRY_TOKEN", raw)


def run(capsys, *argv):
    """cli.main(argv) → (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_pipeline_registers_a_model_version_metrics_artefacts_and_an_alias(
    registry, capsys, team, tmp_path
):
    weights = tmp_path / "out" / "weights" / "model.bin"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"\x00\x01weights" * 1000)
    (tmp_path / "out" / "config.json").write_text('{"layers": 3}')
    (tmp_path / "hparams.json").write_text('{"max_depth": 8, "eta": 0.05}')

    assert (
        run(capsys, "register-model", "fraud-cli", "--team", team.slug, "--tag", "tabular")[0] == 0
    )
    code, out, _ = run(
        capsys,
        "register-version",
        "fraud-cli",
        "--framework", "xgboost",
        "--dataset", "training:transactions:2024-06:s3://data/tx/2024-06:sha256:9f2c41aa",
        "--dataset", "evaluation:holdout",
        "--hyperparameters", f"@{tmp_path / 'hparams.json'}",
        "--source-uri", "https://ci.example.org/runs/42",
    )  # fmt: skip
    assert code == 0 and "registered fraud-cli v1" in out
    code, out, _ = run(
        capsys, "log-metrics", "fraud-cli", "1", "accuracy=0.93", "loss=0.21@1200",
        "recall=0.8#gender=f",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "logged 3 metrics for fraud-cli v1")
    code, out, err = run(
        capsys, "upload", "fraud-cli", "1", str(tmp_path / "out"), "--kind", "weights"
    )
    assert code == 0, err
    assert "uploaded weights/model.bin" in out and "uploaded config.json" in out
    assert run(capsys, "set-alias", "fraud-cli", "champion", "1")[0] == 0

    version = ModelVersion.objects.get(model__name="fraud-cli", version=1)
    assert version.hyperparameters == {"max_depth": 8, "eta": 0.05}
    training = version.dataset_links.get(role="training").dataset
    assert (training.version, training.uri, training.digest) == (
        "2024-06",
        "s3://data/tx/2024-06",
        "sha256:9f2c41aa",
    )
    assert {(m.key, m.step, m.slice) for m in Metric.objects.filter(version=version)} == {
        ("accuracy", None, ""),
        ("loss", 1200, ""),
        ("recall", None, "gender=f"),
    }
    stored = Artifact.objects.get(version=version, path="weights/model.bin")
    assert stored.sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert stored.kind == "weights"
    assert Alias.objects.get(model__name="fraud-cli").version == version
    assert list(
        RegisteredModel.objects.get(name="fraud-cli").tags.values_list("name", flat=True)
    ) == ["tabular"]


def test_show_prints_json(registry, capsys, registered_model):
    make_version(registered_model, framework="onnx")

    code, out, _ = run(capsys, "show", "fraud-detector", "1")

    assert code == 0
    assert json.loads(out)["framework"] == "onnx"
    code, out, _ = run(capsys, "--json", "whoami")
    assert json.loads(out)["username"] == "carol"


def test_metrics_come_from_a_file(registry, capsys, registered_model, tmp_path):
    make_version(registered_model)
    (tmp_path / "metrics.json").write_text('{"auc": 0.97, "f1": 0.88}')

    code, out, _ = run(
        capsys, "log-metrics", "fraud-detector", "1", "--file", str(tmp_path / "metrics.json")
    )

    assert (code, out.strip()) == (0, "logged 2 metrics for fraud-detector v1")


def test_it_exits_non_zero_with_the_servers_message(registry, capsys, registered_model):
    make_version(registered_model)

    code, out, err = run(capsys, "log-metrics", "fraud-detector", "1", "accuracy=0.9", "loss=nan")

    assert code == 1
    assert out == ""
    assert "Metric #2 ('loss'): the value must be a finite number" in err
    assert "HTTP 400" in err
    assert not Metric.objects.exists()


def test_a_duplicate_model_is_reported(registry, capsys, registered_model, team):
    code, _, err = run(capsys, "register-model", "fraud-detector", "--team", team.slug)

    assert code == 1
    assert "already exists" in err and "409" in err


def test_a_restricted_model_of_another_team_is_not_found(
    live_server, capsys, monkeypatch, restricted_model, outsider
):
    _, raw = create_access_token(actor=outsider, name="cli")
    monkeypatch.setenv("REGISTRY_URL", live_server.url)
    monkeypatch.setenv("REGISTRY_TOKEN", raw)

    code, _, err = run(capsys, "show", "secret-scorer")

    assert code == 1
    assert "There is no model 'secret-scorer'" in err and "404" in err


def test_a_bad_token_is_reported(live_server, capsys, monkeypatch, db):
    monkeypatch.setenv("REGISTRY_URL", live_server.url)
    monkeypatch.setenv("REGISTRY_TOKEN", "mr_nope_nope")

    code, _, err = run(capsys, "whoami")

    assert code == 1
    assert "Invalid, revoked or expired token" in err and "401" in err


def test_it_refuses_to_run_without_its_environment(capsys, monkeypatch):
    monkeypatch.delenv("REGISTRY_URL", raising=False)
    monkeypatch.delenv("REGISTRY_TOKEN", raising=False)

    code, _, err = run(capsys, "whoami")

    assert code == 2
    assert "set REGISTRY_URL and REGISTRY_TOKEN" in err


def test_an_unreachable_server_is_reported(capsys, monkeypatch):
    monkeypatch.setenv("REGISTRY_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("REGISTRY_TOKEN", "mr_x_y")

    code, _, err = run(capsys, "whoami")

    assert code == 1
    assert "cannot reach http://127.0.0.1:9" in err


@pytest.mark.parametrize(
    ("spec", "entry"),
    [
        ("training:tx", {"role": "training", "name": "tx"}),
        ("evaluation:tx:v2", {"role": "evaluation", "name": "tx", "version": "v2"}),
        (
            "training:tx:v2:s3://b/tx:sha256:0123abcd",
            {"role": "training", "name": "tx", "version": "v2", "uri": "s3://b/tx",
             "digest": "sha256:0123abcd"},
        ),
        (
            "training:tx:v2:https://h:8443/tx",
            {"role": "training", "name": "tx", "version": "v2", "uri": "https://h:8443/tx"},
        ),
        (
            "training:tx:::sha256:0123abcd",
            {"role": "training", "name": "tx", "version": "", "uri": "",
             "digest": "sha256:0123abcd"},
        ),
    ],
)  # fmt: skip
def test_dataset_specs(spec, entry):
    assert cli.parse_dataset(spec) == entry


@pytest.mark.parametrize(
    ("spec", "entry"),
    [
        ("acc=0.9", {"key": "acc", "value": 0.9}),
        ("loss=0.2@7", {"key": "loss", "value": 0.2, "step": 7}),
        ("recall=0.8#gender=f", {"key": "recall", "value": 0.8, "slice": "gender=f"}),
        ("p95 ms=12@3#eu", {"key": "p95 ms", "value": 12.0, "step": 3, "slice": "eu"}),
    ],
)
def test_metric_specs(spec, entry):
    assert cli.parse_metric(spec) == entry


@pytest.mark.parametrize("spec", ["acc", "=1", "acc=high", "acc=1@x"])
def test_bad_metric_specs_are_refused(spec):
    with pytest.raises(cli.CLIError):
        cli.parse_metric(spec)


def test_the_client_runs_as_a_standalone_script_with_only_the_standard_library(tmp_path):
    # -S -I: no site-packages and no project on the path, as on a pipeline's runner.
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-I", "-S", cli.__file__, "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "register-version" in result.stdout
