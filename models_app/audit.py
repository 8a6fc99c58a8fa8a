"""The audit ledger: append-only and hash-chained.

Each event stores sha256 over its canonical content and the previous event's hash, so
editing or deleting a row anywhere breaks the chain from that point on (see verify_chain).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from models_app.models import AuditChainHead, AuditEvent, ModelVersion, RegisteredModel

GENESIS_HASH = "0" * 64


def canonical_json(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(event: AuditEvent) -> str:
    content = canonical_json(
        {
            "sequence": event.sequence,
            "actor": event.actor_username,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "object_repr": event.object_repr,
            "model_name": event.model_name,
            "version_number": event.version_number,
            "changes": event.changes,
            "created_at": _timestamp(event.created_at),
            "previous_hash": event.previous_hash,
        }
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The head row is created by a migration; this path only runs after a flush.
        last = AuditEvent.objects.order_by("-sequence").first()
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(
                    pk=1,
                    last_sequence=last.sequence if last else 0,
                    last_hash=last.hash if last else GENESIS_HASH,
                )
        except IntegrityError:
            pass  # created by a concurrent writer; lock theirs below
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def _subject(obj) -> tuple[str, int | None]:
    if isinstance(obj, RegisteredModel):
        return obj.name, None
    if isinstance(obj, ModelVersion):
        return obj.model.name, obj.version
    model = getattr(obj, "model", None)
    if isinstance(model, RegisteredModel):
        version = getattr(obj, "version", None)
        return model.name, version.version if isinstance(version, ModelVersion) else None
    version = getattr(obj, "version", None)
    if isinstance(version, ModelVersion):
        return version.model.name, version.version
    return "", None


def record_event(
    *,
    actor,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append one event to the ledger. Must run inside the transaction that made the change."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must be called inside the changing transaction")
    head = _locked_head()
    model_name, version_number = _subject(obj)
    event = AuditEvent(
        sequence=head.last_sequence + 1,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_username=actor.get_username() if actor is not None else "system",
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        model_name=model_name,
        version_number=version_number,
        changes=canonical_json({"before": before or {}, "after": after or {}}),
        # Truncated to whole microseconds, as every database stores them.
        created_at=timezone.now(),
        previous_hash=head.last_hash,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    head.last_sequence = event.sequence
    head.last_hash = event.hash
    head.save(update_fields=["last_sequence", "last_hash"])
    return event


@dataclass
class ChainProblem:
    sequence: int
    reason: str


def verify_chain(chunk_size: int = 2000) -> tuple[int, ChainProblem | None]:
    """Walk the ledger in order; return (events checked, first problem or None)."""
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    events = AuditEvent.objects.order_by("sequence")
    for event in events.iterator(chunk_size=chunk_size):
        if event.sequence != expected_sequence:
            return checked, ChainProblem(
                expected_sequence, f"event #{expected_sequence} is missing"
            )
        if event.previous_hash != expected_previous:
            return checked, ChainProblem(
                event.sequence, "its previous_hash does not match the event before it"
            )
        if compute_hash(event) != event.hash:
            return checked, ChainProblem(event.sequence, "its content does not match its hash")
        expected_previous = event.hash
        expected_sequence += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_sequence > checked:
        return checked, ChainProblem(
            checked + 1, f"events after #{checked} are missing (head is #{head.last_sequence})"
        )
    return checked, None
