"""Every change of state in the catalogue.

Each function takes the acting user, checks permission, validates, writes its rows and the
audit event in one transaction, and raises RegistryError (or its subclass NotAllowed) with a
message a person can act on. Views, the admin, commands and APIs call these and nothing else.
"""

import hashlib
import math
import mimetypes
import numbers
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files import File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from models_app import permissions
from models_app.audit import record_event
from models_app.models import (
    METRIC_KEY_MAX_LENGTH,
    AccessToken,
    Alias,
    Application,
    Artifact,
    Dataset,
    Dependency,
    Deployment,
    Environment,
    Membership,
    Metric,
    ModelVersion,
    RegisteredModel,
    Tag,
    Team,
    VersionDataset,
    metric_key_validator,
)
from models_app.tokens import hash_token, new_token
from models_app.validators import clean_artifact_path, validate_model_name, validate_slug_name

RESERVED_ALIASES = {"latest"}
HASH_CHUNK_SIZE = 1024 * 1024


class RegistryError(Exception):
    """A refused change; ``message`` says why in words a user can act on."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotAllowed(RegistryError):
    code = "permission_denied"


def artifact_storage():
    return storages["artifacts"]


# --- helpers -------------------------------------------------------------------------------


def _require_contributor(actor, model: RegisteredModel) -> None:
    if not permissions.can_contribute(actor, model):
        raise NotAllowed(
            f"You need the contributor role in team '{model.team}' to change {model.name}."
        )


def _require_active(model: RegisteredModel) -> None:
    if model.is_archived:
        raise RegistryError(f"{model.name} is archived; restore it before changing it.")


def _lock_active_model(model_id: int) -> RegisteredModel:
    # A caller's instance may predate an archive, so decide on the row as it is now, and hold
    # it so that the model cannot be archived before this change commits.
    model = RegisteredModel.objects.select_for_update().get(pk=model_id)
    _require_active(model)
    return model


def _require_evidence_unlocked(version: ModelVersion) -> None:
    if version.evidence_locked_at is not None:
        raise RegistryError(
            f"{version} has been approved; its metrics and artefacts are frozen evidence and "
            "cannot change. Register a new version instead.",
            code="evidence_locked",
        )


def _set_tags(obj, tag_names: Iterable[str]) -> list[str]:
    names = normalise_tags(tag_names)
    tags = [Tag.objects.get_or_create(name=name)[0] for name in names]
    obj.tags.set(tags)
    return names


def normalise_tags(tag_names: Iterable[str]) -> list[str]:
    """Lower-case, de-duplicate and validate tag names; raises RegistryError naming a bad one."""
    names = []
    for raw in tag_names:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            validate_slug_name(name)
        except ValidationError:
            raise RegistryError(
                f"Tag '{raw}' is not valid: use lower-case letters, digits, '_' or '-'.",
                field="tags",
            ) from None
        if name not in names:
            names.append(name)
    return sorted(names)


PROPERTY_KEY_MAX_LENGTH = 250
PROPERTY_VALUE_MAX_LENGTH = 5000


def _clean_property(key: Any, value: Any) -> tuple[str, str]:
    if not isinstance(key, str) or not key.strip():
        raise RegistryError("A tag needs a key.", field="tags")
    if len(key) > PROPERTY_KEY_MAX_LENGTH:
        raise RegistryError(
            f"Tag key '{key[:40]}…' is longer than {PROPERTY_KEY_MAX_LENGTH} characters.",
            field="tags",
        )
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RegistryError(f"Tag '{key}': the value must be text.", field="tags")
    if len(value) > PROPERTY_VALUE_MAX_LENGTH:
        raise RegistryError(
            f"Tag '{key}': the value is longer than {PROPERTY_VALUE_MAX_LENGTH} characters.",
            field="tags",
        )
    return key, value


def _is_tag_name(key: str) -> bool:
    try:
        validate_slug_name(key)
    except ValidationError:
        return False
    return True


def split_tags(tags: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Key/value tags as (registry tag names, properties): a tag without a value whose key is
    a valid tag name becomes a registry tag, which the catalogue filters by; every other tag
    is kept verbatim as a property, so nothing a client sent is lost or rewritten."""
    names, properties = [], {}
    for raw_key, raw_value in tags.items():
        key, value = _clean_property(raw_key, raw_value)
        if value == "" and _is_tag_name(key):
            names.append(key)
        else:
            properties[key] = value
    return sorted(set(names)), dict(sorted(properties.items()))


def _snapshot(obj, fields: Iterable[str]) -> dict[str, Any]:
    values = {}
    for field in fields:
        value = getattr(obj, field)
        if hasattr(value, "pk"):
            value = str(value)
        values[field] = value
    return values


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


# --- models --------------------------------------------------------------------------------

MODEL_EDITABLE_FIELDS = (
    "display_name",
    "description",
    "responsible",
    "task",
    "risk_tier",
    "restricted",
)


def create_model(
    *,
    actor,
    name: str,
    team: Team,
    display_name: str = "",
    description: str = "",
    responsible=None,
    task: str = RegisteredModel.Task.OTHER,
    risk_tier: str = RegisteredModel.RiskTier.MINIMAL,
    restricted: bool = False,
    tags: Iterable[str] = (),
    properties: Mapping[str, str] | None = None,
) -> RegisteredModel:
    """Register a new model in a team the actor contributes to."""
    if not permissions.can_create_model_in(actor, team.pk):
        raise NotAllowed(f"You need the contributor role in team '{team}' to create models there.")
    name = (name or "").strip()
    try:
        validate_model_name(name)
    except ValidationError as exc:
        raise RegistryError(exc.messages[0], field="name") from None
    properties = dict(sorted(_clean_property(k, v) for k, v in (properties or {}).items()))
    model = RegisteredModel(
        name=name,
        team=team,
        display_name=display_name,
        description=description,
        responsible=responsible,
        task=task,
        risk_tier=risk_tier,
        restricted=restricted,
        properties=properties,
        created_by=actor,
    )
    try:
        model.full_clean(exclude=["name"])
    except ValidationError as exc:
        raise RegistryError("; ".join(exc.messages)) from None
    try:
        with transaction.atomic():
            model.save()
            tag_names = _set_tags(model, tags)
            record_event(
                actor=actor,
                action="models_app.model.created",
                obj=model,
                after={
                    **_snapshot(model, MODEL_EDITABLE_FIELDS),
                    "team": team.slug,
                    "tags": tag_names,
                    **({"properties": properties} if properties else {}),
                },
            )
    except IntegrityError:
        raise RegistryError(
            f"A model named '{name}' already exists.", field="name", code="duplicate"
        ) from None
    return model


def update_model(*, actor, model: RegisteredModel, tags: Iterable[str] | None = None, **changes):
    """Change a model's descriptive fields (those in MODEL_EDITABLE_FIELDS) and tags."""
    _require_contributor(actor, model)
    unknown = set(changes) - set(MODEL_EDITABLE_FIELDS)
    if unknown:
        raise RegistryError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        _require_active(model)
        before = _snapshot(model, changes)
        before_tags = sorted(model.tags.values_list("name", flat=True))
        for field, value in changes.items():
            setattr(model, field, value)
        try:
            # created_by is not editable here and is legitimately empty once the creator's
            # account is deleted (SET_NULL); validating it would lock such models forever.
            model.full_clean(exclude=["name", "team", "created_by"])
        except ValidationError as exc:
            raise RegistryError("; ".join(exc.messages)) from None
        model.updated_at = timezone.now()
        model.save()
        old, new = _diff(before, _snapshot(model, changes))
        if tags is not None:
            after_tags = _set_tags(model, tags)
            if after_tags != before_tags:
                old["tags"], new["tags"] = before_tags, after_tags
        if new:
            record_event(
                actor=actor, action="models_app.model.updated", obj=model, before=old, after=new
            )
    return model


def archive_model(*, actor, model: RegisteredModel, reason: str = "") -> RegisteredModel:
    """Hide a model from the active catalogue; its versions and history stay."""
    _require_contributor(actor, model)
    with transaction.atomic():
        model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        if model.is_archived:
            raise RegistryError(f"{model.name} is already archived.")
        model.archived_at = timezone.now()
        model.save(update_fields=["archived_at"])
        record_event(
            actor=actor,
            action="models_app.model.archived",
            obj=model,
            before={"archived": False},
            after={"archived": True, "reason": reason},
        )
    return model


def restore_model(*, actor, model: RegisteredModel) -> RegisteredModel:
    """Bring an archived model back into the active catalogue."""
    _require_contributor(actor, model)
    with transaction.atomic():
        model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        if not model.is_archived:
            raise RegistryError(f"{model.name} is not archived.")
        model.archived_at = None
        model.save(update_fields=["archived_at"])
        record_event(
            actor=actor,
            action="models_app.model.restored",
            obj=model,
            before={"archived": True},
            after={"archived": False},
        )
    return model


# --- versions ------------------------------------------------------------------------------

VERSION_CARD_FIELDS = ("description", "intended_use", "limitations", "ethical_considerations")


def _clean_datasets(datasets: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    cleaned = []
    roles = set(VersionDataset.Role.values)
    for index, entry in enumerate(datasets, start=1):
        name = (entry.get("name") or "").strip()
        role = (entry.get("role") or VersionDataset.Role.TRAINING).strip()
        if not name:
            raise RegistryError(f"Dataset #{index} has no name.", field="datasets")
        if len(name) > 200:
            raise RegistryError(f"Dataset #{index}: the name is too long.", field="datasets")
        if role not in roles:
            raise RegistryError(
                f"Dataset #{index} ('{name}'): role must be one of {', '.join(sorted(roles))}.",
                field="datasets",
            )
        cleaned.append(
            {
                "name": name,
                "version": (entry.get("version") or "").strip()[:100],
                "uri": (entry.get("uri") or "").strip()[:1000],
                "digest": (entry.get("digest") or "").strip()[:200],
                "role": role,
            }
        )
    return cleaned


def _check_same_dataset(dataset: Dataset, entry: Mapping[str, str]) -> None:
    # A dataset name and version identify one set of bytes; a different digest or location
    # under the same identity would make the lineage lie, so it is refused, not overwritten.
    for field_name in ("digest", "uri"):
        given, known = entry[field_name], getattr(dataset, field_name)
        if given and known and given != known:
            raise RegistryError(
                f"Dataset '{dataset}' is already registered with {field_name} {known}; "
                f"this version names {given}. Give the changed data a new dataset version.",
                field="datasets",
            )


def register_version(
    *,
    actor,
    model: RegisteredModel,
    framework: str = "",
    framework_version: str = "",
    architecture: str = "",
    description: str = "",
    source_uri: str = "",
    hyperparameters: Mapping[str, Any] | None = None,
    parent: ModelVersion | None = None,
    external_base_model: str = "",
    datasets: Iterable[Mapping[str, str]] = (),
    intended_use: str = "",
    limitations: str = "",
    ethical_considerations: str = "",
    tags: Iterable[str] = (),
    properties: Mapping[str, str] | None = None,
    run_id: str = "",
    run_link: str = "",
) -> ModelVersion:
    """Register the next version of a model, with its lineage and datasets."""
    _require_contributor(actor, model)
    hyperparameters = dict(hyperparameters or {})
    if parent is not None and not permissions.can_view_model(actor, parent.model):
        raise RegistryError("The parent version does not exist.", field="parent")
    dataset_entries = _clean_datasets(datasets)
    tag_names = normalise_tags(tags)
    properties = dict(sorted(_clean_property(k, v) for k, v in (properties or {}).items()))
    with transaction.atomic():
        # The row lock serialises concurrent registrations of one model, so each gets the
        # next number and none is handed out twice.
        locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
        _require_active(locked)
        locked.latest_version += 1
        locked.updated_at = timezone.now()
        locked.save(update_fields=["latest_version", "updated_at"])
        version = ModelVersion(
            model=locked,
            version=locked.latest_version,
            framework=framework,
            framework_version=framework_version,
            architecture=architecture,
            description=description,
            source_uri=source_uri,
            hyperparameters=hyperparameters,
            parent=parent,
            external_base_model=external_base_model,
            intended_use=intended_use,
            limitations=limitations,
            ethical_considerations=ethical_considerations,
            properties=properties,
            run_id=run_id,
            run_link=run_link,
            created_by=actor,
        )
        try:
            version.full_clean(exclude=["model", "version", "parent"])
        except ValidationError as exc:
            raise RegistryError("; ".join(exc.messages)) from None
        version.save()
        for entry in dataset_entries:
            dataset, created = Dataset.objects.get_or_create(
                name=entry["name"],
                version=entry["version"],
                defaults={"uri": entry["uri"], "digest": entry["digest"]},
            )
            if not created:
                _check_same_dataset(dataset, entry)
            VersionDataset.objects.get_or_create(
                version=version, dataset=dataset, role=entry["role"]
            )
        _set_tags(version, tag_names)
        record_event(
            actor=actor,
            action="models_app.version.registered",
            obj=version,
            after={
                "framework": framework,
                "framework_version": framework_version,
                "architecture": architecture,
                "source_uri": source_uri,
                "parent": str(parent) if parent else None,
                "external_base_model": external_base_model,
                "hyperparameters": hyperparameters,
                "datasets": dataset_entries,
                "tags": tag_names,
                **({"properties": properties} if properties else {}),
                **({"run_id": run_id} if run_id else {}),
                **({"run_link": run_link} if run_link else {}),
            },
        )
    model.latest_version = locked.latest_version
    return version


def update_version_card(
    *, actor, version: ModelVersion, tags: Iterable[str] | None = None, **changes
) -> ModelVersion:
    """Edit a version's description and model-card fields (VERSION_CARD_FIELDS) and tags."""
    _require_contributor(actor, version.model)
    unknown = set(changes) - set(VERSION_CARD_FIELDS)
    if unknown:
        raise RegistryError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update(of=("self",))
            .select_related("model")
            .get(pk=version.pk)
        )
        _require_active(version.model)
        before = _snapshot(version, changes)
        before_tags = sorted(version.tags.values_list("name", flat=True))
        for field, value in changes.items():
            setattr(version, field, value)
        version.save(update_fields=list(changes) or None)
        old, new = _diff(before, _snapshot(version, changes))
        if tags is not None:
            after_tags = _set_tags(version, tags)
            if after_tags != before_tags:
                old["tags"], new["tags"] = before_tags, after_tags
        if new:
            record_event(
                actor=actor,
                action="models_app.version.card_updated",
                obj=version,
                before=old,
                after=new,
            )
    return version


# --- key/value tags (the MLflow client's) --------------------------------------------------


def _change_tag(actor, target, key: str, value: str | None) -> None:
    """Set (value given) or remove (value None) one key/value tag of a model or version."""
    is_model = isinstance(target, RegisteredModel)
    _require_contributor(actor, target if is_model else target.model)
    with transaction.atomic():
        if is_model:
            locked = RegisteredModel.objects.select_for_update().get(pk=target.pk)
            _require_active(locked)
        else:
            locked = (
                ModelVersion.objects.select_for_update(of=("self",))
                .select_related("model")
                .get(pk=target.pk)
            )
            _require_active(locked.model)
        names = sorted(locked.tags.values_list("name", flat=True))
        properties = dict(locked.properties or {})
        new_names = [name for name in names if name != key]
        new_properties = {k: v for k, v in properties.items() if k != key}
        if value is None:
            if new_names == names and new_properties == properties:
                raise RegistryError(f"{locked} has no tag '{key}'.", field="key", code="not_found")
        elif value == "" and _is_tag_name(key):
            new_names = sorted([*new_names, key])
        else:
            new_properties = dict(sorted({**new_properties, key: value}.items()))
        if new_names == names and new_properties == properties:
            return
        before, after = {}, {}
        if new_names != names:
            _set_tags(locked, new_names)
            before["tags"], after["tags"] = names, new_names
        if new_properties != properties:
            locked.properties = new_properties
            fields = ["properties"]
            if is_model:
                locked.updated_at = timezone.now()
                fields.append("updated_at")
            locked.save(update_fields=fields)
            # Only the key that changed: values can be long, and the rest did not change.
            before["properties"] = {key: properties[key]} if key in properties else {}
            after["properties"] = {key: new_properties[key]} if key in new_properties else {}
        record_event(
            actor=actor,
            action="models_app.model.updated" if is_model else "models_app.version.card_updated",
            obj=locked,
            before=before,
            after=after,
        )


def set_tag(*, actor, target: RegisteredModel | ModelVersion, key: str, value: str = "") -> None:
    """Set a key/value tag on a model or version. A tag without a value whose key is a valid
    tag name is a registry tag; anything else is kept verbatim in ``properties`` (see
    split_tags). Setting a key replaces whichever of the two held it."""
    key, value = _clean_property(key, value)
    _change_tag(actor, target, key, value)


def delete_tag(*, actor, target: RegisteredModel | ModelVersion, key: str) -> None:
    """Remove a key/value tag (registry tag or property) from a model or version; raises
    RegistryError with code "not_found" when there is no such tag."""
    key, _ = _clean_property(key, "")
    _change_tag(actor, target, key, None)


# --- metrics -------------------------------------------------------------------------------


def _clean_metric(index: int, entry: Mapping[str, Any]) -> dict[str, Any]:
    key = entry.get("key")
    label = f"Metric #{index}" + (f" ('{key}')" if isinstance(key, str) and key else "")
    if not isinstance(key, str) or not key.strip():
        raise RegistryError(f"{label}: the key is missing.", field="metrics")
    key = key.strip()
    if len(key) > METRIC_KEY_MAX_LENGTH:
        raise RegistryError(
            f"Metric #{index}: the key is longer than {METRIC_KEY_MAX_LENGTH} characters.",
            field="metrics",
        )
    try:
        metric_key_validator(key)
    except ValidationError:
        raise RegistryError(
            f"{label}: keys may contain letters, digits, spaces and _ . - / only.",
            field="metrics",
        ) from None
    value = entry.get("value")
    # bool is a Number in Python; True is not a metric value.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise RegistryError(f"{label}: the value {value!r} is not a number.", field="metrics")
    value = float(value)
    if not math.isfinite(value):
        raise RegistryError(
            f"{label}: the value must be a finite number, got {value}.", field="metrics"
        )
    step = entry.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise RegistryError(f"{label}: the step {step!r} is not a whole number.", field="metrics")
    if step is not None and not (0 <= step < 2**63):
        raise RegistryError(f"{label}: the step must be zero or more.", field="metrics")
    metric_slice = entry.get("slice") or ""
    if not isinstance(metric_slice, str) or len(metric_slice) > 200:
        raise RegistryError(
            f"{label}: the slice must be text of at most 200 characters.", field="metrics"
        )
    return {"key": key, "value": value, "step": step, "slice": metric_slice.strip()}


def log_metrics(
    *, actor, version: ModelVersion, metrics: Iterable[Mapping[str, Any]]
) -> list[Metric]:
    """Record a batch of metrics; the whole batch is refused if any entry is bad."""
    _require_contributor(actor, version.model)
    cleaned = [_clean_metric(i, entry) for i, entry in enumerate(metrics, start=1)]
    if not cleaned:
        raise RegistryError("No metrics were given.", field="metrics")
    with transaction.atomic():
        _lock_active_model(version.model_id)
        # Locked so that an approval freezing the evidence cannot interleave with this write.
        locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
        _require_evidence_unlocked(locked)
        rows = Metric.objects.bulk_create([Metric(version=version, **entry) for entry in cleaned])
        record_event(
            actor=actor,
            action="models_app.version.metrics_logged",
            obj=version,
            after={"metrics": cleaned},
        )
    return rows


# --- artefacts -----------------------------------------------------------------------------


def _content_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _hash_to_spool(source: IO[bytes], limit: int) -> tuple[IO[bytes], str, int]:
    """Copy source into a temporary file chunk by chunk, hashing as it goes."""
    digest = hashlib.sha256()
    size = 0
    spool = tempfile.SpooledTemporaryFile(max_size=HASH_CHUNK_SIZE * 4)  # noqa: SIM115
    chunks = (
        source.chunks(HASH_CHUNK_SIZE)
        if hasattr(source, "chunks")
        else iter(lambda: source.read(HASH_CHUNK_SIZE), b"")
    )
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            spool.close()
            raise RegistryError(
                f"The file is larger than the upload limit of {limit:,} bytes.",
                field="file",
                code="too_large",
            )
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest(), size


def attach_artifact(
    *,
    actor,
    version: ModelVersion,
    path: str,
    content: IO[bytes],
    kind: str = Artifact.Kind.OTHER,
    content_type: str = "",
) -> Artifact:
    """Store a file for a version, content-addressed, and record it."""
    _require_contributor(actor, version.model)
    try:
        path = clean_artifact_path(path)
    except ValidationError as exc:
        raise RegistryError(exc.messages[0], field="path", code=exc.code) from None
    if kind not in Artifact.Kind.values:
        raise RegistryError(f"'{kind}' is not an artefact kind.", field="kind")
    _require_active(RegisteredModel.objects.get(pk=version.model_id))
    _require_evidence_unlocked(version)
    if Artifact.objects.filter(version=version, path=path).exists():
        raise RegistryError(
            f"{version} already has an artefact at '{path}'.", field="path", code="duplicate"
        )
    limit = settings.ARTIFACT_MAX_UPLOAD_BYTES
    spool, sha256, size = _hash_to_spool(content, limit)
    storage = artifact_storage()
    key = _content_key(sha256)
    stored_new_object = False
    try:
        with spool:
            if not storage.exists(key):
                saved_as = storage.save(key, File(spool, name=key))
                stored_new_object = True
                if saved_as != key:
                    # Another upload of the same bytes won the race; keep one copy.
                    storage.delete(saved_as)
                    stored_new_object = False
        with transaction.atomic():
            _lock_active_model(version.model_id)
            _require_evidence_unlocked(ModelVersion.objects.select_for_update().get(pk=version.pk))
            artifact = Artifact.objects.create(
                version=version,
                path=path,
                kind=kind,
                size=size,
                sha256=sha256,
                storage_key=key,
                content_type=content_type or mimetypes.guess_type(path)[0] or "",
                created_by=actor,
            )
            record_event(
                actor=actor,
                action="models_app.artifact.attached",
                obj=artifact,
                after={"path": path, "kind": kind, "size": size, "sha256": sha256},
            )
    except IntegrityError:
        _discard_unreferenced(storage, key, stored_new_object)
        raise RegistryError(
            f"{version} already has an artefact at '{path}'.", field="path", code="duplicate"
        ) from None
    except BaseException:
        _discard_unreferenced(storage, key, stored_new_object)
        raise
    return artifact


def _discard_unreferenced(storage, key: str, stored_new_object: bool) -> None:
    # Only delete what this call stored, and only if no committed row points at it.
    if stored_new_object and not Artifact.objects.filter(storage_key=key).exists():
        storage.delete(key)


class ArtifactCorrupted(RegistryError):
    code = "checksum_mismatch"


def open_verified_artifact(artifact: Artifact) -> IO[bytes]:
    """Open an artefact's bytes after checking them against the recorded sha256."""
    storage = artifact_storage()
    digest = hashlib.sha256()
    try:
        with storage.open(artifact.storage_key, "rb") as stored:
            for chunk in iter(lambda: stored.read(HASH_CHUNK_SIZE), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise ArtifactCorrupted(f"The stored bytes of '{artifact.path}' are missing.") from None
    if digest.hexdigest() != artifact.sha256:
        raise ArtifactCorrupted(
            f"The stored bytes of '{artifact.path}' do not match their recorded sha256; "
            "the download was stopped."
        )
    return storage.open(artifact.storage_key, "rb")


def lock_version_evidence(*, actor, version: ModelVersion, reason: str) -> ModelVersion:
    """Freeze a version's metrics and artefacts (called when an approval is granted).

    Runs inside the caller's transaction when there is one, so the lock and the approval
    commit together.
    """
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.evidence_locked_at is None:
            version.evidence_locked_at = timezone.now()
            version.save(update_fields=["evidence_locked_at"])
            record_event(
                actor=actor,
                action="models_app.version.evidence_locked",
                obj=version,
                after={"reason": reason},
            )
    return version


# --- aliases -------------------------------------------------------------------------------


def set_alias(*, actor, model: RegisteredModel, name: str, version: ModelVersion) -> Alias:
    """Point an alias (e.g. 'champion') at a version, creating or moving it."""
    _require_contributor(actor, model)
    name = (name or "").strip().lower()
    try:
        validate_slug_name(name)
    except ValidationError as exc:
        raise RegistryError(exc.messages[0], field="name") from None
    if name in RESERVED_ALIASES or (name.startswith("v") and name[1:].isdigit()):
        raise RegistryError(
            f"'{name}' is reserved; it would be confused with a version.", field="name"
        )
    if version.model_id != model.pk:
        raise RegistryError(f"Version {version} is not a version of {model.name}.", field="version")
    with transaction.atomic():
        _lock_active_model(model.pk)
        alias = Alias.objects.select_for_update().filter(model=model, name=name).first()
        if alias is None:
            alias = Alias.objects.create(model=model, name=name, version=version, updated_by=actor)
            record_event(
                actor=actor,
                action="models_app.alias.set",
                obj=alias,
                after={"alias": name, "version": version.version},
            )
        elif alias.version_id != version.pk:
            previous = alias.version.version
            alias.version = version
            alias.updated_by = actor
            alias.save(update_fields=["version", "updated_by", "updated_at"])
            record_event(
                actor=actor,
                action="models_app.alias.moved",
                obj=alias,
                before={"alias": name, "version": previous},
                after={"alias": name, "version": version.version},
            )
    return alias


def delete_alias(*, actor, model: RegisteredModel, name: str) -> None:
    """Remove an alias from a model."""
    _require_contributor(actor, model)
    with transaction.atomic():
        alias = (
            Alias.objects.select_for_update()
            .select_related("version")
            .filter(model=model, name=name)
            .first()
        )
        if alias is None:
            raise RegistryError(
                f"{model.name} has no alias '{name}'.", field="name", code="not_found"
            )
        record_event(
            actor=actor,
            action="models_app.alias.deleted",
            obj=alias,
            before={"alias": name, "version": alias.version.version},
        )
        alias.delete()


# --- who depends on what: resolution and impact analysis -----------------------------------


def _route(dependency: Dependency) -> str:
    # The first means a dependency names decides, with no fall-through: an application that
    # asked for alias 'champion' must not silently get whatever runs in production instead.
    if dependency.pinned_version_id:
        return "pinned"
    if dependency.alias_name:
        return "alias"
    if dependency.environment_id:
        return "environment"
    return ""


@dataclass
class Resolution:
    """What an application gets through one dependency right now.

    ``via`` reads "pinned", "alias <name>" or "environment <name>". ``version`` is None when
    the alias does not exist or nothing serves full traffic there. ``canaries`` are the active
    deployments taking a share of that environment's traffic beside ``version`` (environment
    dependencies only), largest share first.
    """

    dependency: Dependency
    via: str
    version: ModelVersion | None
    canaries: list[Deployment] = dataclass_field(default_factory=list)

    def reaches(self, version: ModelVersion) -> bool:
        """Whether this dependency serves ``version`` to the application, even in part."""
        if self.version is not None and self.version.pk == version.pk:
            return True
        return any(d.version_id == version.pk for d in self.canaries)


def resolve_dependencies(dependencies: Iterable[Dependency]) -> dict[int, Resolution]:
    """resolve_dependency for many dependencies: {dependency pk: Resolution}, in at most four
    queries however many there are (for the application page)."""
    dependencies = list(dependencies)
    if not dependencies:
        return {}
    prefetch_related_objects(dependencies, "environment")
    routes = {d.pk: _route(d) for d in dependencies}
    model_ids = {d.model_id for d in dependencies}
    pinned_ids = {d.pinned_version_id for d in dependencies if routes[d.pk] == "pinned"}
    alias_names = {d.alias_name for d in dependencies if routes[d.pk] == "alias"}
    environment_ids = {d.environment_id for d in dependencies if routes[d.pk] == "environment"}
    pinned = ModelVersion.objects.select_related("model").in_bulk(pinned_ids) if pinned_ids else {}
    aliases: dict[tuple[int, str], ModelVersion] = {}
    if alias_names:
        rows = Alias.objects.filter(model_id__in=model_ids, name__in=alias_names)
        aliases = {(a.model_id, a.name): a.version for a in rows.select_related("version__model")}
    full: dict[tuple[int, int], ModelVersion] = {}
    canaries: dict[tuple[int, int], list[Deployment]] = {}
    if environment_ids:
        active = (
            Deployment.objects.active()
            .filter(model_id__in=model_ids, environment_id__in=environment_ids)
            .select_related("version__model")
            .order_by("-traffic_percent", "deployed_at", "pk")
        )
        for deployment in active:
            key = (deployment.model_id, deployment.environment_id)
            if deployment.traffic_percent == 100:
                full[key] = deployment.version
            else:
                canaries.setdefault(key, []).append(deployment)
    resolved = {}
    for dependency in dependencies:
        route = routes[dependency.pk]
        if route == "pinned":
            resolution = Resolution(dependency, "pinned", pinned.get(dependency.pinned_version_id))
        elif route == "alias":
            version = aliases.get((dependency.model_id, dependency.alias_name))
            resolution = Resolution(dependency, f"alias {dependency.alias_name}", version)
        elif route == "environment":
            key = (dependency.model_id, dependency.environment_id)
            resolution = Resolution(
                dependency,
                f"environment {dependency.environment.name}",
                full.get(key),
                canaries.get(key, []),
            )
        else:
            resolution = Resolution(dependency, "", None)
        resolved[dependency.pk] = resolution
    return resolved


def resolve_dependency(dependency: Dependency) -> ModelVersion | None:
    """The version an application gets through this dependency now: the pinned version, else
    the alias's target, else what serves full traffic in the environment; None if nothing."""
    return resolve_dependencies([dependency])[dependency.pk].version


@dataclass
class Impact:
    """One application dependency that a change reaches, and the team that owns it.

    ``current`` is the version the application gets through the dependency now (for
    impact_of: the version asked about); ``new`` what it would get after the change (alias
    moves and rollbacks; None for deprecation and retirement).
    """

    application: Application
    dependency: Dependency
    via: str
    owner_team: Team
    current: ModelVersion | None
    new: ModelVersion | None = None

    def __str__(self):
        return f"{self.application.name} (team {self.owner_team.name}, via {self.via})"

    def as_dict(self) -> dict[str, Any]:
        """For audit events: application slug, owner team slug, route and version numbers."""
        data = {
            "application": self.application.slug,
            "owner_team": self.owner_team.slug,
            "via": self.via,
            "version": self.current.version if self.current else None,
        }
        if self.new is not None:
            data["new_version"] = self.new.version
        return data


def _dependencies_of(model_id: int, **filters) -> list[Dependency]:
    return list(
        Dependency.objects.filter(model_id=model_id, **filters)
        .select_related("application__owner_team", "environment", "model")
        .order_by("application__name", "pk")
    )


def _impact(resolution: Resolution, current, new=None, via: str | None = None) -> Impact:
    application = resolution.dependency.application
    return Impact(
        application=application,
        dependency=resolution.dependency,
        via=via or resolution.via,
        owner_team=application.owner_team,
        current=current,
        new=new,
    )


def impact_of(version: ModelVersion) -> list[Impact]:
    """Applications that get this version now: pinned to it, through an alias that points at
    it, or through an environment where it is active (at full traffic or as a canary).
    At most five queries, however many applications depend on the model."""
    dependencies = _dependencies_of(version.model_id)
    resolutions = resolve_dependencies(dependencies)
    impacts = []
    for dependency in dependencies:
        resolution = resolutions[dependency.pk]
        if not resolution.reaches(version):
            continue
        via = resolution.via
        canary = next((d for d in resolution.canaries if d.version_id == version.pk), None)
        if canary is not None and resolution.version != version:
            via = f"{via} (canary {canary.traffic_percent}%)"
        impacts.append(_impact(resolution, version, via=via))
    return impacts


def impact_of_alias_move(
    model: RegisteredModel, alias_name: str, new_version: ModelVersion
) -> list[Impact]:
    """Applications that would get another version if ``alias_name`` pointed at
    ``new_version``, each with the version it gets now (``current``) and then (``new``)."""
    dependencies = _dependencies_of(model.pk, alias_name=alias_name, pinned_version__isnull=True)
    resolutions = resolve_dependencies(dependencies)
    return [
        _impact(resolutions[d.pk], resolutions[d.pk].version, new_version)
        for d in dependencies
        if resolutions[d.pk].version != new_version
    ]


def impact_of_alias_delete(model: RegisteredModel, alias_name: str) -> list[Impact]:
    """Applications that get a version through ``alias_name`` now and would get nothing once
    it is deleted (dependencies have no fall-through), each with the version it gets now."""
    dependencies = _dependencies_of(model.pk, alias_name=alias_name, pinned_version__isnull=True)
    resolutions = resolve_dependencies(dependencies)
    return [
        _impact(resolutions[d.pk], resolutions[d.pk].version)
        for d in dependencies
        if resolutions[d.pk].version is not None
    ]


def rollback_candidate(model: RegisteredModel, environment: Environment) -> Deployment | None:
    """The deployment whose version a rollback in this environment would bring back (its
    version and target), or None.

    The environment's full-traffic history is replayed as a stack: a promotion pushes its
    version, a rollback pops back to the version it restored, and rolled-back deployments
    never count. The candidate is the nearest entry below the live version that is not
    retired, so successive rollbacks walk back through history and never return to a
    version that was rolled back.
    """
    return rollback_candidates([model], environment)[model.pk]


def rollback_candidates(
    models: Iterable[RegisteredModel], environment: Environment
) -> dict[int, Deployment | None]:
    """rollback_candidate for many models in one query: {model pk: Deployment or None}
    (for the environment timeline, which offers a rollback per model)."""
    model_ids = {model.pk for model in models}
    history = (
        Deployment.objects.filter(
            model_id__in=model_ids, environment=environment, traffic_percent=100
        )
        .exclude(status=Deployment.Status.ROLLED_BACK)
        .select_related("version__model")
        .order_by("deployed_at", "pk")
    )
    per_model: dict[int, list[Deployment]] = {pk: [] for pk in model_ids}
    for deployment in history:
        per_model[deployment.model_id].append(deployment)
    return {pk: _rollback_candidate_in(rows) for pk, rows in per_model.items()}


def _rollback_candidate_in(history: list[Deployment]) -> Deployment | None:
    stack: list[Deployment] = []
    for deployment in history:
        if deployment.rolled_back_from_id is not None:
            while stack and stack[-1].version_id != deployment.version_id:
                stack.pop()
            if stack:
                stack[-1] = deployment
                continue
        elif stack and stack[-1].version_id == deployment.version_id:
            stack[-1] = deployment
            continue
        stack.append(deployment)
    if not stack or stack[-1].status != Deployment.Status.ACTIVE:
        # Nothing serves at full traffic now; the newest ended entry is what came before.
        stack.append(None)
    live = stack[-1]
    for deployment in reversed(stack[:-1]):
        if live is not None and deployment.version_id == live.version_id:
            continue
        if deployment.version.retired_at is None:
            return deployment
    return None


def impact_of_rollback(model: RegisteredModel, environment: Environment) -> list[Impact]:
    """Applications that would get another version if ``model`` were rolled back in
    ``environment`` (its environment dependencies), with the version now and after."""
    candidate = rollback_candidate(model, environment)
    if candidate is None:
        return []
    dependencies = _dependencies_of(
        model.pk, environment=environment, alias_name="", pinned_version__isnull=True
    )
    resolutions = resolve_dependencies(dependencies)
    return [
        _impact(resolutions[d.pk], resolutions[d.pk].version, candidate.version)
        for d in dependencies
        if resolutions[d.pk].version != candidate.version
    ]


def describe_impacts(impacts: Iterable[Impact]) -> str:
    """'Checkout (team Payments, via pinned); Support bot (team CX, via alias champion)'."""
    return "; ".join(str(impact) for impact in impacts)


# --- deprecation and retirement -----------------------------------------------------------


class InUse(RegistryError):
    """A retirement refused because the version is still used.

    ``impacts`` lists the dependent applications (see impact_of) and ``deployments`` the
    version's active deployments, for a page to show as a table beside the message.
    """

    code = "in_use"

    def __init__(self, message: str, *, impacts: list[Impact], deployments: list[Deployment]):
        super().__init__(message)
        self.impacts = impacts
        self.deployments = deployments


def _lock_version(version: ModelVersion) -> ModelVersion:
    # The same order as every deployment writer: model, then version, then the audit head.
    model = _lock_active_model(version.model_id)
    locked = ModelVersion.objects.select_for_update().get(pk=version.pk)
    locked.model = model
    return locked


def deprecate_version(*, actor, version: ModelVersion, reason: str) -> ModelVersion:
    """Mark a version deprecated. Where it runs it keeps running, and a rollback may still
    return to it, but it can no longer be newly promoted. The audit event names its
    dependents at that moment."""
    _require_contributor(actor, version.model)
    reason = (reason or "").strip()
    if not reason:
        raise RegistryError("Say why this version is deprecated.", field="reason")
    with transaction.atomic():
        version = _lock_version(version)
        if version.retired_at is not None:
            raise RegistryError(f"{version} is already retired.")
        if version.deprecated_at is not None:
            raise RegistryError(f"{version} is already deprecated.")
        impacts = impact_of(version)
        version.deprecated_at = timezone.now()
        version.save(update_fields=["deprecated_at"])
        record_event(
            actor=actor,
            action="models_app.version.deprecated",
            obj=version,
            before={"deprecated": False},
            after={
                "deprecated": True,
                "reason": reason,
                "dependents": [impact.as_dict() for impact in impacts],
            },
        )
    return version


def _in_use_message(version, impacts: list[Impact], active: list[Deployment]) -> str:
    uses = []
    if impacts:
        uses.append(f"applications depend on it: {describe_impacts(impacts)}")
    if active:
        places = ", ".join(f"{d.environment.name} ({d.traffic_percent}%)" for d in active)
        uses.append(f"it is active in {places}")
    return (
        f"{version} is still in use: {' and '.join(uses)}. Move them to another version first, "
        "or ask an administrator to force the retirement with a written reason."
    )


def retire_version(
    *, actor, version: ModelVersion, reason: str = "", force: bool = False
) -> ModelVersion:
    """Retire a version for good: it can never be promoted again. While an application depends
    on it or it is active anywhere this raises InUse listing them, unless a superuser forces
    it with a written reason; a forced retirement ends its active deployments (status
    retired) and the audit event records the dependents it left behind."""
    _require_contributor(actor, version.model)
    reason = (reason or "").strip()
    with transaction.atomic():
        version = _lock_version(version)
        if version.retired_at is not None:
            raise RegistryError(f"{version} is already retired.")
        impacts = impact_of(version)
        # No row lock needed: every deployment writer holds the model row locked above.
        active = list(
            Deployment.objects.active()
            .filter(version=version)
            .select_related("environment")
            .order_by("environment__order", "environment__name")
        )
        in_use = bool(impacts or active)
        if in_use and not force:
            raise InUse(
                _in_use_message(version, impacts, active), impacts=impacts, deployments=active
            )
        if in_use and not actor.is_superuser:
            raise NotAllowed(
                f"Only an administrator can force the retirement of {version} while it is in use."
            )
        if in_use and not reason:
            raise RegistryError("Forcing a retirement needs a written reason.", field="reason")
        now = timezone.now()
        for deployment in active:
            deployment.status = Deployment.Status.RETIRED
            deployment.ended_at = now
            deployment.save(update_fields=["status", "ended_at"])
            record_event(
                actor=actor,
                action="models_app.deployment.retired",
                obj=deployment,
                before={"status": Deployment.Status.ACTIVE},
                after={
                    "status": Deployment.Status.RETIRED,
                    "environment": deployment.environment.name,
                    "traffic_percent": deployment.traffic_percent,
                    "reason": reason,
                },
            )
        version.retired_at = now
        version.save(update_fields=["retired_at"])
        record_event(
            actor=actor,
            action="models_app.version.retired",
            obj=version,
            before={"retired": False},
            after={
                "retired": True,
                "reason": reason,
                "forced": in_use,
                "dependents": [impact.as_dict() for impact in impacts],
                "ended_deployments": [
                    {"environment": d.environment.name, "traffic_percent": d.traffic_percent}
                    for d in active
                ],
            },
        )
    return version


# --- applications and their dependencies ---------------------------------------------------

APPLICATION_EDITABLE_FIELDS = ("name", "owner_team", "contact", "description")


def _require_application_owner(actor, team: Team) -> None:
    if not permissions.has_team_role(actor, team.pk, Membership.Role.CONTRIBUTOR):
        raise NotAllowed(
            f"You need the contributor role in team '{team}' to change its applications."
        )


def _registry_error(exc: ValidationError) -> RegistryError:
    """The first message of a model validation error, on its field when it names one."""
    if hasattr(exc, "error_dict"):
        name, messages = next(iter(exc.message_dict.items()))
        return RegistryError(messages[0], field=None if name == NON_FIELD_ERRORS else name)
    return RegistryError(exc.messages[0])


def register_application(
    *, actor, name: str, slug: str, owner_team: Team, contact: str = "", description: str = ""
) -> Application:
    """Register a system that consumes models; the actor must contribute to the owner team."""
    _require_application_owner(actor, owner_team)
    slug = (slug or "").strip().lower()
    application = Application(
        name=(name or "").strip(),
        slug=slug,
        owner_team=owner_team,
        contact=(contact or "").strip(),
        description=description or "",
        created_by=actor,
    )
    try:
        application.full_clean(exclude=["created_by"], validate_unique=False)
    except ValidationError as exc:
        raise _registry_error(exc) from None
    try:
        with transaction.atomic():
            application.save()
            record_event(
                actor=actor,
                action="models_app.application.registered",
                obj=application,
                after={
                    "slug": slug,
                    "name": application.name,
                    "owner_team": owner_team.slug,
                    "contact": application.contact,
                    "description": application.description,
                },
            )
    except IntegrityError:
        raise RegistryError(
            f"An application with the slug '{slug}' already exists.", field="slug", code="duplicate"
        ) from None
    return application


def update_application(*, actor, application: Application, **changes) -> Application:
    """Change an application's name, owner team, contact or description (not its slug, which
    is in URLs). Moving it to another team needs the contributor role in both."""
    unknown = set(changes) - set(APPLICATION_EDITABLE_FIELDS)
    if unknown:
        raise RegistryError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        _require_application_owner(actor, application.owner_team)
        new_team = changes.get("owner_team")
        if new_team is not None and new_team.pk != application.owner_team_id:
            _require_application_owner(actor, new_team)
        before = _snapshot(application, changes)
        for name, value in changes.items():
            if isinstance(value, str) and name != "description":
                value = value.strip()
            setattr(application, name, value)
        try:
            application.full_clean(exclude=["slug", "created_by"], validate_unique=False)
        except ValidationError as exc:
            raise _registry_error(exc) from None
        application.save()
        old, new = _diff(before, _snapshot(application, changes))
        if new:
            record_event(
                actor=actor,
                action="models_app.application.updated",
                obj=application,
                before=old,
                after=new,
            )
    return application


def _dependency_dict(dependency: Dependency) -> dict[str, Any]:
    return {
        "application": dependency.application.slug,
        "model": dependency.model.name,
        "environment": dependency.environment.name if dependency.environment else None,
        "alias": dependency.alias_name or None,
        "pinned_version": dependency.pinned_version.version if dependency.pinned_version else None,
    }


def add_dependency(
    *,
    actor,
    application: Application,
    model: RegisteredModel,
    environment: Environment | None = None,
    alias_name: str = "",
    pinned_version: ModelVersion | None = None,
) -> Dependency:
    """Record that an application uses a model through an environment, an alias or a pinned
    version; the first of pinned, alias, environment decides what it gets (see
    resolve_dependency). The actor must contribute to the application's team and see the
    model."""
    _require_application_owner(actor, application.owner_team)
    if not permissions.can_view_model(actor, model):
        raise RegistryError("That model does not exist.", field="model")
    alias_name = (alias_name or "").strip().lower()
    if alias_name:
        try:
            validate_slug_name(alias_name)
        except ValidationError as exc:
            raise RegistryError(exc.messages[0], field="alias_name") from None
    dependency = Dependency(
        application=application,
        model=model,
        environment=environment,
        alias_name=alias_name,
        pinned_version=pinned_version,
    )
    try:
        dependency.clean()
    except ValidationError as exc:
        raise _registry_error(exc) from None
    with transaction.atomic():
        # Held like a retirement holds it, so a version cannot be retired between the check
        # below and the new dependency on it.
        _lock_active_model(model.pk)
        if pinned_version is not None and (
            ModelVersion.objects.filter(pk=pinned_version.pk, retired_at__isnull=False).exists()
        ):
            raise RegistryError(
                f"{pinned_version} is retired; pin a version that can still run.",
                field="pinned_version",
            )
        if alias_name and not Alias.objects.filter(model=model, name=alias_name).exists():
            raise RegistryError(f"{model.name} has no alias '{alias_name}'.", field="alias_name")
        duplicate = Dependency.objects.filter(
            application=application,
            model=model,
            environment=environment,
            alias_name=alias_name,
            pinned_version=pinned_version,
        )
        if duplicate.exists():
            raise RegistryError(
                f"{application.name} already has this dependency on {model.name}.",
                code="duplicate",
            )
        dependency.save()
        record_event(
            actor=actor,
            action="models_app.dependency.added",
            obj=dependency,
            after=_dependency_dict(dependency),
        )
    return dependency


def remove_dependency(*, actor, dependency: Dependency) -> None:
    """Remove one of an application's dependencies."""
    with transaction.atomic():
        locked = Dependency.objects.select_for_update().filter(pk=dependency.pk).first()
        if locked is None:
            raise RegistryError("That dependency no longer exists.")
        _require_application_owner(actor, locked.application.owner_team)
        record_event(
            actor=actor,
            action="models_app.dependency.removed",
            obj=locked,
            before=_dependency_dict(locked),
        )
        locked.delete()


# --- access tokens -------------------------------------------------------------------------

TOKEN_MAX_DAYS = 366


def create_access_token(*, actor, name: str, expires_in_days: int = 90):
    """Make a personal access token for the actor; returns (token row, the token itself).

    The token itself is not stored anywhere and cannot be shown again.
    """
    name = (name or "").strip()
    if not name:
        raise RegistryError("Name the token after what will use it.", field="name")
    if len(name) > 100:
        raise RegistryError("The name is longer than 100 characters.", field="name")
    if not isinstance(expires_in_days, int) or not 1 <= expires_in_days <= TOKEN_MAX_DAYS:
        raise RegistryError(
            f"A token lives between 1 and {TOKEN_MAX_DAYS} days.", field="expires_in_days"
        )
    prefix, raw = new_token()
    with transaction.atomic():
        token = AccessToken.objects.create(
            user=actor,
            name=name,
            prefix=prefix,
            token_hash=hash_token(raw),
            expires_at=timezone.now() + timedelta(days=expires_in_days),
        )
        record_event(
            actor=actor,
            action="models_app.token.created",
            obj=token,
            after={"name": name, "prefix": prefix, "expires_at": token.expires_at.isoformat()},
        )
    return token, raw


def revoke_access_token(*, actor, token: AccessToken) -> AccessToken:
    """Revoke a token at once. Its owner or a superuser may."""
    if actor.pk != token.user_id and not actor.is_superuser:
        raise NotAllowed("Only the token's owner can revoke it.")
    with transaction.atomic():
        token = AccessToken.objects.select_for_update().get(pk=token.pk)
        if token.is_revoked:
            raise RegistryError("This token is already revoked.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(
            actor=actor,
            action="models_app.token.revoked",
            obj=token,
            before={"revoked": False},
            after={"revoked": True, "owner": token.user.get_username()},
        )
    return token


# --- organisation (ops) -------------------------------------------------------------------


def record_admin_change(*, actor, obj, action: str, before: dict | None, after: dict | None):
    """Audit a change that ops staff made to reference data in the admin.

    Call inside the transaction that saved or deleted ``obj``.
    """
    return record_event(actor=actor, action=action, obj=obj, before=before, after=after)


def set_membership(*, actor, team: Team, user, role: str) -> Membership:
    """Give a user a role in a team (or change it). Superusers and team admins only."""
    if not permissions.has_team_role(actor, team.pk, Membership.Role.ADMIN):
        raise NotAllowed(f"Only admins of team '{team}' can change its members.")
    if role not in Membership.Role.values:
        raise RegistryError(f"'{role}' is not a team role.", field="role")
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            team=team, user=user, defaults={"role": role}
        )
        before = None if created else {"role": membership.role}
        if not created and membership.role == role:
            return membership
        membership.role = role
        membership.save(update_fields=["role"])
        record_event(
            actor=actor,
            action="models_app.membership.set",
            obj=membership,
            before=before,
            after={"user": user.get_username(), "team": team.slug, "role": role},
        )
    return membership
