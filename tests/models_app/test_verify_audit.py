"""manage.py verify_audit: OK on an intact ledger, the first broken event otherwise."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from models_app.audit import compute_hash
from models_app.models import AuditEvent
from models_app.services import archive_model, create_model, register_version, update_model


@pytest.fixture
def ledger(contributor, team):
    """Four events written through the services."""
    model = create_model(actor=contributor, name="ledgered", team=team)
    register_version(actor=contributor, model=model)
    update_model(actor=contributor, model=model, description="Scores card payments.")
    archive_model(actor=contributor, model=model)
    assert AuditEvent.objects.count() == 4


def _execute(sql: str, params: list) -> None:
    # Raw SQL because the ORM refuses to update or delete audit events.
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=table), params)


def _verify() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exit_:
        code = exit_.code
    else:
        code = 0
    return code, out.getvalue(), err.getvalue()


def test_it_reports_an_intact_chain(ledger):
    code, out, err = _verify()

    assert code == 0
    assert out.strip() == "OK: 4 events, chain intact"
    assert err == ""


def test_it_reports_an_empty_ledger_as_intact(db):
    code, out, _ = _verify()

    assert code == 0
    assert out.strip() == "OK: 0 events, chain intact"


def test_it_names_the_event_whose_content_was_edited(ledger):
    _execute("UPDATE {table} SET object_repr = %s WHERE sequence = %s", ["someone-else's-model", 2])

    code, out, err = _verify()

    assert code == 1
    assert out == ""
    assert err.strip() == "FAILED at event #2: its content does not match its hash"


def test_it_detects_an_edit_whose_hash_was_recomputed(ledger):
    # A forger who also rewrites the edited row's hash breaks the link to the next event.
    event = AuditEvent.objects.get(sequence=2)
    event.actor_username = "mallory"
    _execute(
        "UPDATE {table} SET actor_username = %s, hash = %s WHERE sequence = %s",
        ["mallory", compute_hash(event), 2],
    )

    code, _, err = _verify()

    assert code == 1
    assert err.strip() == (
        "FAILED at event #3: its previous_hash does not match the event before it"
    )


def test_it_detects_a_deleted_middle_event(ledger):
    _execute("DELETE FROM {table} WHERE sequence = %s", [3])

    code, _, err = _verify()

    assert code == 1
    assert err.strip() == "FAILED at event #3: event #3 is missing"


def test_it_detects_a_deleted_last_event(ledger):
    _execute("DELETE FROM {table} WHERE sequence = %s", [4])

    code, _, err = _verify()

    assert code == 1
    assert err.strip().startswith("FAILED at event #4: ")
