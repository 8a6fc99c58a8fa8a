"""The audit ledger: hash-chained, append-only, and tamper-evident."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from models_app.audit import GENESIS_HASH, compute_hash, record_event, verify_chain
from models_app.models import AuditChainHead, AuditEvent
from models_app.services import create_model, register_version
from tests.models_app.ledger import assert_chain_intact


@pytest.fixture
def three_events(contributor, team):
    model = create_model(actor=contributor, name="ledgered", team=team)
    register_version(actor=contributor, model=model)
    register_version(actor=contributor, model=model)
    return list(AuditEvent.objects.order_by("sequence"))


def _raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=AuditEvent._meta.db_table), params)


def test_events_are_chained_from_the_genesis_hash(three_events):
    first, second, third = three_events

    assert [e.sequence for e in three_events] == [1, 2, 3]
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert all(compute_hash(e) == e.hash for e in three_events)
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_sequence, head.last_hash) == (3, third.hash)
    assert_chain_intact(expected_events=3)


def test_an_event_without_an_actor_is_recorded_as_system(registered_model):
    with transaction.atomic():
        event = record_event(actor=None, action="models_app.test.system", obj=registered_model)

    assert event.actor is None
    assert event.actor_username == "system"
    assert_chain_intact(expected_events=1)


def test_saving_an_existing_event_is_refused(three_events):
    event = three_events[0]
    event.action = "models_app.model.deleted"

    with pytest.raises(TypeError, match="never updated"):
        event.save()

    assert AuditEvent.objects.get(pk=event.pk).action == "models_app.model.created"


def test_deleting_an_event_is_refused(three_events):
    with pytest.raises(TypeError, match="never deleted"):
        three_events[0].delete()

    assert AuditEvent.objects.count() == 3


def test_bulk_updates_are_refused(three_events):
    with pytest.raises(TypeError, match="never updated"):
        AuditEvent.objects.filter(sequence=1).update(action="forged")

    assert not AuditEvent.objects.filter(action="forged").exists()


def test_bulk_deletes_are_refused(three_events):
    with pytest.raises(TypeError, match="never deleted"):
        AuditEvent.objects.all().delete()

    assert AuditEvent.objects.count() == 3


def test_it_detects_content_edited_with_raw_sql(three_events):
    _raw_sql(
        "UPDATE {table} SET changes = %s WHERE sequence = %s",
        ['{"after":{"forged":true},"before":{}}', 2],
    )

    checked, problem = verify_chain()

    assert checked == 1
    assert problem.sequence == 2
    assert problem.reason == "its content does not match its hash"


def test_it_detects_a_rehashed_edit_by_the_next_link(three_events):
    second = AuditEvent.objects.get(sequence=2)
    second.actor_username = "mallory"
    forged_hash = compute_hash(second)
    _raw_sql(
        "UPDATE {table} SET actor_username = %s, hash = %s WHERE sequence = %s",
        ["mallory", forged_hash, 2],
    )

    checked, problem = verify_chain()

    assert checked == 2
    assert problem.sequence == 3
    assert problem.reason == "its previous_hash does not match the event before it"


def test_it_detects_an_event_deleted_with_raw_sql(three_events):
    _raw_sql("DELETE FROM {table} WHERE sequence = %s", [2])

    checked, problem = verify_chain()

    assert checked == 1
    assert problem.sequence == 2
    assert problem.reason == "event #2 is missing"


def test_it_detects_the_newest_events_deleted_with_raw_sql(three_events):
    _raw_sql("DELETE FROM {table} WHERE sequence = %s", [3])

    checked, problem = verify_chain()

    assert checked == 2
    assert problem.sequence == 3
    assert "head is #3" in problem.reason


def test_the_chain_recovers_its_head_after_a_flush(contributor, team, three_events):
    # A flush (e.g. between transactional tests) removes the head row the migration made.
    AuditChainHead.objects.all().delete()

    create_model(actor=contributor, name="after-flush", team=team)

    head = AuditChainHead.objects.get(pk=1)
    assert head.last_sequence == 4
    assert_chain_intact(expected_events=4)


def test_record_event_refuses_to_run_outside_a_transaction(registered_model, monkeypatch):
    # The test itself runs in a transaction, so pretend for just this call that it does not.
    with monkeypatch.context() as patch, pytest.raises(RuntimeError, match="inside the changing"):
        patch.setattr(connections[DEFAULT_DB_ALIAS], "in_atomic_block", False)
        record_event(actor=None, action="models_app.test.loose", obj=registered_model)

    assert not AuditEvent.objects.exists()
