"""Assertions shared by the service tests: what the ledger and the tables hold."""

from models_app.audit import verify_chain
from models_app.models import (
    Alias,
    Artifact,
    AuditEvent,
    Dataset,
    Membership,
    Metric,
    ModelVersion,
    RegisteredModel,
    Tag,
    VersionDataset,
)

_COUNTED = (
    RegisteredModel,
    ModelVersion,
    Dataset,
    VersionDataset,
    Metric,
    Artifact,
    Alias,
    Membership,
    Tag,
    AuditEvent,
)


def row_counts() -> dict[str, int]:
    """Rows per table the services write, to prove a refused call wrote nothing."""
    return {model.__name__: model.objects.count() for model in _COUNTED}


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-sequence").first()


def assert_chain_intact(expected_events: int | None = None) -> None:
    checked, problem = verify_chain()
    assert problem is None, f"audit chain broken at #{problem.sequence}: {problem.reason}"
    if expected_events is not None:
        assert checked == expected_events


def stored_names(storage, path: str = "") -> list[str]:
    """Every file in a storage, walked through the public listdir API."""
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        return []
    prefix = f"{path}/" if path else ""
    names = [prefix + name for name in files]
    for directory in directories:
        names.extend(stored_names(storage, prefix + directory))
    return sorted(names)
