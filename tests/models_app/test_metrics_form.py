"""Logging metrics from the version page: one metric per line, the whole batch or nothing."""

import pytest
from django.urls import reverse
from django.utils import timezone

from models_app.forms import parse_metric_lines
from models_app.models import Metric
from tests.factories import make_version
from tests.models_app.ledger import last_event, row_counts


@pytest.fixture
def version(registered_model):
    return make_version(registered_model)


def metrics_url(version):
    return reverse("models_app:metrics_log", args=[version.model.name, version.version])


def test_it_logs_a_batch_of_metrics(client, contributor, version):
    client.force_login(contributor)

    response = client.post(
        metrics_url(version),
        {
            "metrics": (
                "# offline evaluation\n"
                "accuracy 0.931\n"
                "\n"
                "roc_auc 0.974 - eval\n"
                'latency_p95_ms 41.5 - "region=eu west"\n'
                "train_loss 0.212 1200\n"
                '"recall at 5" 0.61 3 test\n'
            )
        },
    )

    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url() + "?tab=metrics"
    rows = list(Metric.objects.filter(version=version).order_by("id"))
    assert [(m.key, m.value, m.step, m.slice) for m in rows] == [
        ("accuracy", 0.931, None, ""),
        ("roc_auc", 0.974, None, "eval"),
        ("latency_p95_ms", 41.5, None, "region=eu west"),
        ("train_loss", 0.212, 1200, ""),
        ("recall at 5", 0.61, 3, "test"),
    ]
    event = last_event()
    assert event.action == "models_app.version.metrics_logged"
    assert len(event.after["metrics"]) == 5


def test_the_form_shows_an_example_and_the_known_metrics(client, contributor, version):
    client.force_login(contributor)

    content = client.get(metrics_url(version)).content.decode()

    assert "key value [step] [slice]" in content
    assert "accuracy 0.931" in content


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("accuracy nan", "the value must be a finite number, not &#x27;nan&#x27;"),
        ("accuracy NaN", "not &#x27;NaN&#x27;"),
        ("accuracy inf", "not &#x27;inf&#x27;"),
        ("accuracy -Infinity", "not &#x27;-Infinity&#x27;"),
        ("accuracy 1e999", "not &#x27;1e999&#x27;"),
        ("accuracy high", "&#x27;high&#x27; is not a number"),
        ("accuracy", "give a key and a value"),
        ("k" * 129 + " 0.5", "the key is longer than 128 characters"),
        ("acc#uracy 0.5", "has characters not allowed in a key"),
        ("accuracy 0.5 two", "the step &#x27;two&#x27; is not a whole number"),
        ("accuracy 0.5 -3", "the step &#x27;-3&#x27; is not a whole number"),
        ("accuracy 0.5 99999999999999999999", "the step is too large"),
        ("accuracy 0.5 1 eval extra", "5 parts, but a line has at most 4"),
        ('accuracy 0.5 - "eu west', "a quote is not closed"),
        ("accuracy 0.5 - " + "s" * 201, "the slice is longer than 200 characters"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_written(client, contributor, version, line, message):
    client.force_login(contributor)
    before = row_counts()

    response = client.post(
        metrics_url(version), {"metrics": f"accuracy 0.9\n\nrecall 0.8\n{line}\nf1 0.7"}
    )

    assert response.status_code == 200
    content = response.content.decode()
    errors = response.context["form"].errors["metrics"]
    assert len(errors) == 1
    assert errors[0].startswith("Line 4: ")
    assert message in content
    assert "Nothing was logged." in content
    assert row_counts() == before
    # The text stays in the form so that only the bad line needs fixing.
    assert "recall 0.8" in content


@pytest.mark.parametrize("text", ["", "   \n# only a comment\n"])
def test_an_empty_batch_is_refused(client, contributor, version, text):
    client.force_login(contributor)

    response = client.post(metrics_url(version), {"metrics": text})

    assert response.status_code == 200
    assert response.context["form"].errors["metrics"]
    assert not Metric.objects.exists()


def test_too_many_lines_are_refused(client, contributor, version):
    client.force_login(contributor)

    response = client.post(
        metrics_url(version), {"metrics": "\n".join(f"m{i} {i}" for i in range(1001))}
    )

    assert "At most 1000 metrics at once" in response.content.decode()
    assert not Metric.objects.exists()


def test_a_refusal_from_the_service_is_shown_and_nothing_is_written(client, contributor, version):
    version.evidence_locked_at = timezone.now()
    version.save()
    client.force_login(contributor)
    before = row_counts()

    response = client.post(metrics_url(version), {"metrics": "accuracy 0.9"})

    assert response.status_code == 200
    assert "frozen evidence" in str(response.context["form"].non_field_errors())
    assert row_counts() == before


def test_parsed_lines_are_what_the_service_takes():
    assert parse_metric_lines("auc 0.97 - holdout\nloss 1e-3 10") == [
        {"key": "auc", "value": 0.97, "step": None, "slice": "holdout"},
        {"key": "loss", "value": 0.001, "step": 10, "slice": ""},
    ]


def test_an_approved_version_says_its_evidence_is_frozen_before_anything_is_typed(
    client, contributor, version
):
    version.evidence_locked_at = timezone.now()
    version.save()
    client.force_login(contributor)

    form_page = client.get(metrics_url(version)).content.decode()
    upload_page = client.get(
        reverse("models_app:artifact_upload", args=[version.model.name, version.version])
    ).content.decode()
    version_page = client.get(version.get_absolute_url()).content.decode()

    assert "frozen evidence" in form_page and "frozen evidence" in upload_page
    # Only the card can still change, so the version page offers only that.
    assert "Edit card" in version_page
    assert metrics_url(version) not in version_page
    assert "Upload artefact</a>" not in version_page


def test_the_version_page_of_an_archived_model_offers_no_new_evidence(client, contributor, version):
    version.model.archived_at = timezone.now()
    version.model.save()
    client.force_login(contributor)

    page = client.get(version.get_absolute_url()).content.decode()

    assert metrics_url(version) not in page
    assert "Upload artefact</a>" not in page
