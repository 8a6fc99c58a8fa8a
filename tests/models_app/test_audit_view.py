import csv
import io
import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from models_app import services
from models_app.models import AuditEvent
from models_app.views.audit import CSV_COLUMNS, summarise_changes
from tests.factories import add_member, make_user

URL = reverse("models_app:audit_list")
HTMX = {"HX-Request": "true", "HX-Target": "results"}


def _sequences(response) -> list[int]:
    return [event.sequence for event, _kind, _summary in response.context["entries"]]


def _shown_sequences(response) -> list[int]:
    """The sequence numbers in the table, read from the HTML (htmx fragments too)."""
    return [int(n) for n in re.findall(r'<td class="num mono">(\d+)</td>', response.text)]


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def history(contributor, registered_model, restricted_model, superuser, outsider, team):
    """A small real ledger: model, version and alias events, one restricted model's events and
    an organisation event (a membership)."""
    v1 = services.register_version(actor=contributor, model=registered_model, framework="sklearn")
    v2 = services.register_version(actor=contributor, model=registered_model, parent=v1)
    services.set_alias(actor=contributor, model=registered_model, name="champion", version=v1)
    services.set_alias(actor=contributor, model=registered_model, name="champion", version=v2)
    services.update_model(actor=contributor, model=registered_model, risk_tier="high")
    services.register_version(actor=contributor, model=restricted_model)
    services.set_membership(actor=superuser, team=team, user=make_user("nina"), role="viewer")
    return {"v1": v1, "v2": v2}


def test_it_sends_anonymous_users_to_the_login_page(client, history):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_sends_anonymous_csv_requests_to_the_login_page(client, history):
    response = client.get(URL, {"format": "csv"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_lists_events_newest_first_on_the_full_page(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL)

    assert response.status_code == 200
    assert "models_app/audit_list.html" in [t.name for t in response.templates]
    body = response.content.decode()
    assert "<html" in body
    assert 'id="results"' in body
    assert _sequences(response) == list(range(AuditEvent.objects.count(), 0, -1))
    assert "Version registered" in body
    assert "models_app.version.registered" in body
    assert reverse("models_app:version_detail", args=["fraud-detector", 2]) in body
    assert reverse("models_app:model_detail", args=["fraud-detector"]) in body


def test_it_shows_the_ledger_head_and_names_the_verify_command(client, superuser, history):
    client.force_login(superuser)
    head = AuditEvent.objects.order_by("-sequence").first()

    body = client.get(URL).content.decode()

    assert f"#{head.sequence}" in body
    assert head.hash[:16] in body
    assert "manage.py verify_audit" in body
    assert "Chain verified" not in body


def test_it_answers_htmx_with_the_results_fragment_only(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"actor": "carol"}, headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "<form" not in body
    assert body.lstrip().startswith('<div id="results"')
    assert "models_app.alias.moved" in body
    assert "HX-Request" in response["Vary"]


def test_it_filters_by_actor(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"actor": "root"})

    assert _sequences(response) == [
        e.sequence for e in AuditEvent.objects.filter(actor_username="root")
    ]
    assert len(_sequences(response)) == 1
    # Exact: a prefix of a username matches nobody.
    assert _sequences(client.get(URL, {"actor": "car"})) == []


def test_it_offers_the_ledger_actors_as_suggestions(client, superuser, history):
    client.force_login(superuser)

    body = client.get(URL).content.decode()

    assert '<datalist id="audit-actors">' in body
    assert '<option value="carol">' in body
    assert '<option value="root">' in body


def test_it_filters_by_exact_action_code(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"action": "models_app.alias.moved"})

    assert len(_sequences(response)) == 1
    assert response.context["entries"][0][0].action == "models_app.alias.moved"


def test_it_filters_by_action_prefix(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"action": "models_app.version"})

    actions = {event.action for event, _kind, _summary in response.context["entries"]}
    assert actions == {"models_app.version.registered"}
    assert len(_sequences(response)) == 3


def test_it_offers_action_codes_grouped_by_object(client, superuser, history):
    client.force_login(superuser)

    body = client.get(URL).content.decode()

    assert '<optgroup label="Alias">' in body
    assert '<option value="models_app.alias">All alias events</option>' in body
    assert '<option value="models_app.alias.moved">Alias moved</option>' in body


def test_it_keeps_a_typed_action_prefix_selected(client, superuser, history):
    client.force_login(superuser)

    body = client.get(URL, {"action": "models_app.ver"}).content.decode()

    assert '<option value="models_app.ver" selected>' in body


def test_it_filters_by_model_and_version(client, superuser, history):
    client.force_login(superuser)

    by_model = client.get(URL, {"model": "fraud-detector"})
    by_version = client.get(URL, {"model": "fraud-detector", "version": "1"})

    assert len(_sequences(by_model)) == 5
    # v1's registration, plus the alias first set to v1.
    versions = {event.version_number for event, _k, _s in by_version.context["entries"]}
    assert versions == {1}
    assert len(_sequences(by_version)) == 2


def test_it_reports_a_bad_version_number_and_lists_nothing(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"version": "two"})

    assert response.status_code == 200
    assert _sequences(response) == []
    assert "Version: Enter a whole number." in response.content.decode()


def test_it_filters_by_text_in_the_object(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"q": "CHAMPION"})

    assert len(_sequences(response)) == 2
    assert all("champion" in e.object_repr for e, _k, _s in response.context["entries"])


def _event_at(moment: datetime, actor, model):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        services.update_model(actor=actor, model=model, display_name=f"At {moment:%H:%M:%S}")
    return AuditEvent.objects.order_by("-sequence").first()


def test_the_date_range_is_inclusive_in_the_site_time_zone(
    client, settings, superuser, contributor, registered_model
):
    settings.TIME_ZONE = "Europe/Berlin"  # UTC+1 in March
    before = _event_at(datetime(2025, 3, 9, 22, 59, 59, tzinfo=UTC), contributor, registered_model)
    first = _event_at(datetime(2025, 3, 9, 23, 0, 0, tzinfo=UTC), contributor, registered_model)
    last = _event_at(datetime(2025, 3, 10, 22, 59, 59, tzinfo=UTC), contributor, registered_model)
    after = _event_at(datetime(2025, 3, 10, 23, 0, 0, tzinfo=UTC), contributor, registered_model)
    client.force_login(superuser)

    one_day = client.get(URL, {"date_from": "2025-03-10", "date_to": "2025-03-10"})
    from_only = client.get(URL, {"date_from": "2025-03-10"})
    to_only = client.get(URL, {"date_to": "2025-03-09"})

    assert _sequences(one_day) == [last.sequence, first.sequence]
    assert _sequences(from_only) == [after.sequence, last.sequence, first.sequence]
    assert _sequences(to_only) == [before.sequence]
    exported = _csv(client.get(URL, {"format": "csv", "date_to": "2025-03-09"}))
    assert [row["created_at"] for row in exported] == ["2025-03-09T22:59:59.000000Z"]


def test_it_refuses_a_date_range_that_ends_before_it_starts(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"date_from": "2025-03-10", "date_to": "2025-03-09"})

    assert _sequences(response) == []
    assert "The &#x27;from&#x27; date is after the &#x27;to&#x27; date." in (
        response.content.decode()
    )


def test_an_outsider_does_not_see_a_restricted_models_events(client, outsider, history):
    client.force_login(outsider)

    response = client.get(URL)

    body = response.content.decode()
    seen = {event.model_name for event, _k, _s in response.context["entries"]}
    assert "secret-scorer" not in seen
    assert "secret-scorer" not in body
    assert "fraud-detector" in seen
    # Organisation events concern no model and are shown to everyone signed in.
    assert "models_app.membership.set" in {e.action for e, _k, _s in response.context["entries"]}


def test_an_outsider_cannot_reach_restricted_events_by_filtering(client, outsider, history):
    client.force_login(outsider)

    assert _sequences(client.get(URL, {"model": "secret-scorer"})) == []
    assert _csv(client.get(URL, {"format": "csv", "model": "secret-scorer"})) == []


def test_the_owning_team_sees_a_restricted_models_events(client, viewer, history):
    client.force_login(viewer)

    response = client.get(URL, {"model": "secret-scorer"})

    assert len(_sequences(response)) == 1


def test_a_superuser_sees_every_event(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL)

    assert len(_sequences(response)) == AuditEvent.objects.count()


def test_it_paginates_fifty_events_per_page(client, superuser, contributor, registered_model):
    version = services.register_version(actor=contributor, model=registered_model)
    for n in range(54):
        services.log_metrics(actor=contributor, version=version, metrics=[{"key": "m", "value": n}])
    client.force_login(superuser)

    first = client.get(URL, {"actor": "carol"})
    second = client.get(URL, {"actor": "carol", "page": "2"}, headers=HTMX)

    assert len(_sequences(first)) == 50
    assert _shown_sequences(second) == [5, 4, 3, 2, 1]
    assert _shown_sequences(first) == list(range(55, 5, -1))
    body = first.content.decode()
    assert 'href="?actor=carol&amp;page=2"' in body
    assert 'hx-get="?actor=carol&amp;page=2"' in body


def test_the_export_button_carries_the_current_filters(client, superuser, history):
    client.force_login(superuser)

    body = client.get(URL, {"actor": "carol", "page": "1"}).content.decode()

    assert 'href="?actor=carol&amp;format=csv"' in body


def test_it_exports_the_filtered_events_as_csv(client, superuser, history):
    client.force_login(superuser)

    response = client.get(URL, {"format": "csv", "action": "models_app.alias"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="audit-')
    assert disposition.endswith('.csv"')
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["action"] for row in rows] == ["models_app.alias.moved", "models_app.alias.set"]
    moved = rows[0]
    event = AuditEvent.objects.get(sequence=int(moved["sequence"]))
    assert moved["actor"] == "carol"
    assert moved["object_type"] == "models_app.Alias"
    assert moved["object"] == "fraud-detector@champion"
    assert moved["model"] == "fraud-detector"
    assert moved["version"] == "2"
    assert moved["before"] == '{"alias": "champion", "version": 1}'
    assert moved["after"] == '{"alias": "champion", "version": 2}'
    assert moved["hash"] == event.hash
    assert moved["previous_hash"] == event.previous_hash
    assert moved["created_at"] == event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_the_csv_names_the_file_after_todays_date(client, superuser, history):
    client.force_login(superuser)
    today = datetime(2025, 6, 7, 12, 0, tzinfo=UTC)

    with mock.patch("django.utils.timezone.now", return_value=today):
        response = client.get(URL, {"format": "csv"})

    assert response["Content-Disposition"] == 'attachment; filename="audit-20250607.csv"'


def test_the_csv_defuses_spreadsheet_formulas(client, superuser, team, registered_model):
    mallory = make_user("@mallory")
    add_member(mallory, team, "contributor")
    minus = make_user("-minus")
    add_member(minus, team, "contributor")
    services.register_version(actor=mallory, model=registered_model)
    services.register_version(actor=minus, model=registered_model)
    services.set_membership(actor=superuser, team=team, user=make_user("+plus"), role="viewer")
    client.force_login(superuser)

    rows = _csv(client.get(URL, {"format": "csv"}))

    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in {"=", "+", "-", "@"}]
    assert [row["actor"] for row in rows] == ["root", "'-minus", "'@mallory"]
    assert rows[0]["object"] == "'+plus in Fraud (Viewer)"


def _count_queries(client, params=None, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params or {}, **kwargs)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


def _more_events(actor, model, count: int):
    version = services.register_version(actor=actor, model=model)
    for n in range(count):
        services.log_metrics(actor=actor, version=version, metrics=[{"key": "m", "value": n}])
        services.set_alias(actor=actor, model=model, name=f"alias-{n}", version=version)


def test_the_page_has_a_fixed_query_budget(
    client, django_assert_max_num_queries, viewer, contributor, history, registered_model
):
    client.force_login(viewer)

    # session, user, event count, page of events, actor suggestions, action codes, ledger head,
    # and the navigation's review-queue badge
    with django_assert_max_num_queries(8):
        client.get(URL, {"q": "fraud"})
    # session, user, event count, page of events
    with django_assert_max_num_queries(4):
        client.get(URL, {"q": "fraud"}, headers=HTMX)
    # session, user, the events
    with django_assert_max_num_queries(3):
        b"".join(client.get(URL, {"format": "csv"}).streaming_content)


def test_the_query_count_does_not_grow_with_the_ledger(
    client, viewer, contributor, history, registered_model
):
    client.force_login(viewer)
    before = [
        _count_queries(client),
        _count_queries(client, headers=HTMX),
        _count_queries(client, {"format": "csv"}),
    ]

    _more_events(contributor, registered_model, 30)

    after = [
        _count_queries(client),
        _count_queries(client, headers=HTMX),
        _count_queries(client, {"format": "csv"}),
    ]
    assert AuditEvent.objects.count() > 60
    assert after == before


def test_the_change_summary_keeps_only_changed_keys():
    summary = summarise_changes(
        '{"before": {"alias": "champion", "version": 1},'
        ' "after": {"alias": "champion", "version": 2}}'
    )

    assert [(c.key, c.before, c.after) for c in summary.shown] == [("version", "1", "2")]
    assert not summary.needs_details


def test_the_change_summary_skips_blank_fields_of_a_creation():
    summary = summarise_changes(
        '{"before": {}, "after": {"name": "x", "description": "", "parent": null, "tags": []}}'
    )

    assert [(c.key, c.before, c.after) for c in summary.shown] == [("name", None, "x")]


def test_the_change_summary_truncates_long_values_and_keeps_the_full_json():
    long_text = "word " * 40
    summary = summarise_changes(f'{{"before": {{}}, "after": {{"description": "{long_text}"}}}}')

    (change,) = summary.shown
    assert change.after.endswith("…")
    assert len(change.after) <= 60
    assert summary.needs_details
    assert long_text in summary.full_json


def test_the_change_summary_folds_many_keys_into_the_details():
    after = ", ".join(f'"k{n}": {n}' for n in range(7))
    summary = summarise_changes(f'{{"before": {{}}, "after": {{{after}}}}}')

    assert len(summary.shown) == 4
    assert summary.hidden == 3
    assert summary.needs_details


def test_actions_read_as_words_with_a_tone(history):
    labels = {
        e.action: (e.action_label, e.action_tone) for e in AuditEvent.objects.order_by("sequence")
    }

    assert labels["models_app.version.registered"] == ("Version registered", "good")
    assert labels["models_app.alias.moved"] == ("Alias moved", "info")
    assert labels["models_app.membership.set"] == ("Membership set", "good")
