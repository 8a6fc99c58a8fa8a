"""/api/v1/models/<name>/versions/<n>/metrics/: logging a batch and reading it back."""

import json

import pytest
from django.utils import timezone

from models_app.models import AuditEvent, Metric
from tests.factories import make_metric, make_version
from tests.models_app.api.test_authentication import assert_error


@pytest.fixture
def version(registered_model):
    return make_version(registered_model)


URL = "/api/v1/models/fraud-detector/versions/1/metrics/"


def post(client, body, headers):
    if not isinstance(body, str):
        body = json.dumps(body)
    return client.post(URL, body, content_type="application/json", headers=headers)


def test_a_contributor_logs_a_batch(client, version, as_contributor):
    batch = [
        {"key": "accuracy", "value": 0.93},
        {"key": "loss", "value": 0.21, "step": 1200},
        {"key": "recall", "value": 0.8, "slice": "gender=f"},
    ]

    response = post(client, batch, as_contributor)

    assert response.status_code == 201, response.json()
    assert response.json()["count"] == 3
    assert {(m.key, m.value, m.step, m.slice) for m in Metric.objects.filter(version=version)} == {
        ("accuracy", 0.93, None, ""),
        ("loss", 0.21, 1200, ""),
        ("recall", 0.8, None, "gender=f"),
    }
    assert AuditEvent.objects.filter(action="models_app.version.metrics_logged").count() == 1


def test_a_batch_may_come_wrapped_in_an_object(client, version, as_contributor):
    response = post(client, {"metrics": [{"key": "auc", "value": 1}]}, as_contributor)

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[{"key": "accuracy", "value": 0.9}, {"key": "loss", "value": NaN}]',
            "Metric #2 ('loss')",
        ),
        ('[{"key": "loss", "value": Infinity}]', "Metric #1 ('loss')"),
        ('[{"key": "loss", "value": 1e999}]', "finite"),
        ('[{"key": "loss", "value": "0.5"}]', "is not a number"),
        ('[{"key": "loss", "value": true}]', "is not a number"),
        ('[{"key": "loss", "value": 1, "step": -1}]', "step"),
        ('[{"key": "bad key!", "value": 1}]', "keys may contain"),
        ('[{"value": 1}]', "the key is missing"),
        ("[1, 2]", "Metric #1 is not an object"),
        ('{"accuracy": 0.9}', "JSON list"),
        ("[]", "No metrics"),
    ],
)
def test_a_bad_entry_refuses_the_whole_batch_naming_it(
    client, version, as_contributor, body, message
):
    response = post(client, body, as_contributor)

    error = assert_error(response, 400, "invalid")
    assert message in error["message"]
    assert error["field"] == "metrics"
    assert not Metric.objects.exists()


def test_a_malformed_body_is_a_400(client, version, as_contributor):
    response = post(client, '[{"key": "loss", "value": }]', as_contributor)

    assert_error(response, 400, "parse_error")


def test_frozen_evidence_is_a_409(client, version, as_contributor):
    version.evidence_locked_at = timezone.now()
    version.save()

    response = post(client, [{"key": "auc", "value": 0.5}], as_contributor)

    assert_error(response, 409, "evidence_locked")


def test_logging_permissions_follow_the_web(
    client, version, restricted_model, as_viewer, as_outsider
):
    make_version(restricted_model)
    hidden = "/api/v1/models/secret-scorer/versions/1/metrics/"

    assert_error(post(client, [{"key": "a", "value": 1}], as_viewer), 403, "permission_denied")
    outsider = client.post(hidden, "[]", content_type="application/json", headers=as_outsider)
    assert_error(outsider, 404, "not_found")
    assert not Metric.objects.exists()


def test_metrics_read_back_filtered_by_key(client, version, as_viewer):
    make_metric(version, "accuracy", 0.9)
    make_metric(version, "loss", 0.3, step=1)
    make_metric(version, "loss", 0.2, step=2)

    everything = client.get(URL, headers=as_viewer).json()
    losses = client.get(URL, {"key": "loss"}, headers=as_viewer).json()

    assert everything["count"] == 3
    assert [(m["value"], m["step"]) for m in losses["results"]] == [(0.3, 1), (0.2, 2)]


def test_the_metric_list_costs_the_same_queries_however_many_metrics(
    client, version, as_viewer, django_assert_max_num_queries, django_assert_num_queries
):
    make_metric(version, "accuracy", 0.9)
    client.get(URL, headers=as_viewer)
    # token, model, version, count, page of metrics
    with django_assert_max_num_queries(5) as first:
        client.get(URL, headers=as_viewer)
    # Each request resets the connection's query log, so count now.
    expected = len(first.captured_queries)
    for step in range(20):
        make_metric(version, "loss", 1 / (step + 1), step=step)
    with django_assert_num_queries(expected):
        assert client.get(URL, headers=as_viewer).json()["count"] == 21
