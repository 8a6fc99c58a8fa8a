"""The catalogue: teams, models, versions, lineage, metrics, artefacts, deployments, audit.

Rows here are written only by the functions in ``services.py`` (and ``audit.py`` for the
ledger). Model methods compute values from their own row and nothing else.
"""

import json
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from models_app.validators import validate_model_name, validate_slug_name

ROLE_RANK = {"viewer": 0, "contributor": 1, "reviewer": 2, "admin": 3}


class Team(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        CONTRIBUTOR = "contributor", "Contributor"
        REVIEWER = "reviewer", "Reviewer"
        ADMIN = "admin", "Team admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team")
        ]
        ordering = ["team__name", "user__username"]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.get_role_display()})"

    def has_at_least(self, role: str) -> bool:
        """Roles are ranked: viewer < contributor < reviewer < admin."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True, validators=[validate_slug_name])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RegisteredModelQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Models this user may see: unrestricted ones, plus restricted ones of their teams."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        member = Membership.objects.filter(user=user, team=OuterRef("team"))
        return self.filter(Q(restricted=False) | Exists(member))

    def active(self):
        return self.filter(archived_at__isnull=True)


class RegisteredModel(models.Model):
    class Task(models.TextChoices):
        CLASSIFICATION = "classification", "Classification"
        REGRESSION = "regression", "Regression"
        FORECASTING = "forecasting", "Forecasting"
        TEXT_GENERATION = "text-generation", "Text generation"
        EMBEDDING = "embedding", "Embedding"
        RANKING = "ranking", "Ranking / recommendation"
        IMAGE_CLASSIFICATION = "image-classification", "Image classification"
        OBJECT_DETECTION = "object-detection", "Object detection"
        SPEECH = "speech", "Speech"
        ANOMALY_DETECTION = "anomaly-detection", "Anomaly detection"
        OTHER = "other", "Other"

    class RiskTier(models.TextChoices):
        # After the EU AI Act's categories; "unacceptable" systems are not registered at all.
        MINIMAL = "minimal", "Minimal"
        LIMITED = "limited", "Limited"
        HIGH = "high", "High"

    name = models.CharField(
        max_length=100,
        unique=True,
        validators=[validate_model_name],
        help_text="Lower-case letters, digits, '-', '_' and '.'; how APIs address the model.",
    )
    display_name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="models")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="responsible_for",
        help_text="The person accountable for this model.",
    )
    task = models.CharField(max_length=40, choices=Task.choices, default=Task.OTHER)
    risk_tier = models.CharField(max_length=20, choices=RiskTier.choices, default=RiskTier.MINIMAL)
    restricted = models.BooleanField(
        default=False, help_text="Only members of the owning team can see a restricted model."
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="models")
    # Tags with a value (key → value text), such as those the MLflow client sets; value-less
    # tags with a valid name live in ``tags`` so the catalogue can filter by them.
    properties = models.JSONField(default=dict, blank=True, help_text="Tags with a value.")
    # The last version number handed out. Numbers are allocated by incrementing this under
    # a row lock, so they are never reused even if a version row disappears.
    latest_version = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True, db_index=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = RegisteredModelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("models_app:model_detail", args=[self.name])

    @property
    def title(self) -> str:
        return self.display_name or self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Dataset(models.Model):
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=100, blank=True)
    uri = models.CharField(max_length=1000, blank=True)
    digest = models.CharField(max_length=200, blank=True, help_text="e.g. sha256:…")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="dataset_unique_name_version")
        ]

    def __str__(self):
        return f"{self.name}@{self.version}" if self.version else self.name


class ModelVersionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(model__in=RegisteredModel.objects.visible_to(user))


class ModelVersion(models.Model):
    class Framework(models.TextChoices):
        PYTORCH = "pytorch", "PyTorch"
        TENSORFLOW = "tensorflow", "TensorFlow"
        JAX = "jax", "JAX"
        SKLEARN = "sklearn", "scikit-learn"
        XGBOOST = "xgboost", "XGBoost"
        LIGHTGBM = "lightgbm", "LightGBM"
        ONNX = "onnx", "ONNX"
        TRANSFORMERS = "transformers", "Hugging Face Transformers"
        PROPHET = "prophet", "Prophet"
        OTHER = "other", "Other"

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    framework = models.CharField(max_length=30, choices=Framework.choices, blank=True)
    framework_version = models.CharField(max_length=50, blank=True)
    architecture = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    source_uri = models.CharField(
        max_length=1000, blank=True, help_text="The run, job or commit that produced it."
    )
    hyperparameters = models.JSONField(default=dict, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The version this one was fine-tuned or derived from.",
    )
    external_base_model = models.CharField(
        max_length=300,
        blank=True,
        help_text="A base model outside the registry, e.g. a public checkpoint.",
    )
    datasets = models.ManyToManyField(Dataset, through="VersionDataset", related_name="versions")
    intended_use = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="versions")
    properties = models.JSONField(default=dict, blank=True, help_text="Tags with a value.")
    run_id = models.CharField(
        max_length=200, blank=True, db_index=True, help_text="The tracking run (e.g. MLflow's)."
    )
    run_link = models.CharField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    deprecated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Set when the version is approved for any environment: from then on its artefacts and
    # metrics are evidence and can no longer be added to or changed.
    evidence_locked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["model__name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="version_unique_number")
        ]

    def __str__(self):
        return f"{self.model.name} v{self.version}"

    def get_absolute_url(self):
        return reverse("models_app:version_detail", args=[self.model.name, self.version])

    @property
    def model_card_complete(self) -> bool:
        return all([self.intended_use, self.limitations, self.ethical_considerations])


class VersionDataset(models.Model):
    class Role(models.TextChoices):
        TRAINING = "training", "Training"
        VALIDATION = "validation", "Validation"
        EVALUATION = "evaluation", "Evaluation"

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="dataset_links"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="version_links")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        ordering = ["role", "dataset__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "dataset", "role"], name="version_dataset_unique_role"
            )
        ]

    def __str__(self):
        return f"{self.dataset} ({self.role})"


metric_key_validator = RegexValidator(
    r"^[A-Za-z0-9_.\-/ ]+$",
    "Metric keys may contain letters, digits, spaces and _ . - / only.",
)
METRIC_KEY_MAX_LENGTH = 128


class MetricDefinition(models.Model):
    key = models.CharField(
        max_length=METRIC_KEY_MAX_LENGTH, unique=True, validators=[metric_key_validator]
    )
    display_name = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. ms, %, req/s")
    higher_is_better = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.key


class MetricQuerySet(models.QuerySet):
    def latest_values(self):
        """One row per (version_id, key, slice) with ``value`` (the latest: highest step, a
        metric without a step counting below any step, then the last recorded), ``entries``,
        ``steps`` (how many carry a step) and ``last_step``. Grouped in the database, so one
        query however long the training curves are."""
        latest = (
            Metric.objects.filter(
                version=models.OuterRef("version_id"),
                key=models.OuterRef("key"),
                slice=models.OuterRef("slice"),
            )
            .order_by(models.F("step").desc(nulls_last=True), "-recorded_at", "-pk")
            .values("value")[:1]
        )
        return self.values("version_id", "key", "slice").annotate(
            value=models.Subquery(latest),
            entries=models.Count("pk"),
            steps=models.Count("step"),
            last_step=models.Max("step"),
        )


class Metric(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="metrics")
    key = models.CharField(max_length=METRIC_KEY_MAX_LENGTH, validators=[metric_key_validator])
    value = models.FloatField()
    step = models.BigIntegerField(null=True, blank=True)
    slice = models.CharField(
        max_length=200, blank=True, help_text="Dataset or slice, e.g. 'eval' or 'gender=f'."
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = MetricQuerySet.as_manager()

    class Meta:
        ordering = ["key", "slice", "step", "id"]
        indexes = [models.Index(fields=["version", "key"], name="metric_version_key")]

    def __str__(self):
        return f"{self.key}={self.value}"

    def clean(self):
        if not math.isfinite(self.value):
            raise ValidationError({"value": "Metric values must be finite numbers."})


class Artifact(models.Model):
    class Kind(models.TextChoices):
        WEIGHTS = "weights", "Weights"
        CONFIG = "config", "Config"
        CODE = "code", "Code"
        OTHER = "other", "Other"

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="artifacts")
    path = models.CharField(max_length=500, help_text="Path within the version, e.g. model.onnx")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    size = models.BigIntegerField()
    sha256 = models.CharField(
        max_length=64, validators=[RegexValidator(r"^[0-9a-f]{64}$", "Not a sha256 hex digest.")]
    )
    # Where the bytes are in the artefact storage; equal bytes share one object.
    storage_key = models.CharField(max_length=300, editable=False)
    content_type = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["version", "path"], name="artifact_unique_path")
        ]

    def __str__(self):
        return self.path

    def get_absolute_url(self):
        return reverse(
            "models_app:artifact_download",
            args=[self.version.model.name, self.version.version, self.path],
        )


class Alias(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=60, validators=[validate_slug_name])
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "aliases"
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="alias_unique_name")]

    def __str__(self):
        return f"{self.model.name}@{self.name}"


class Environment(models.Model):
    name = models.SlugField(max_length=60, unique=True)
    display_name = models.CharField(max_length=120, blank=True)
    order = models.PositiveIntegerField(default=0, help_text="Position in the promotion path.")
    requires_approval = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    promotion_sources = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="promotes_to",
        help_text="A version may enter this environment only if it is or was deployed in one of "
        "these. Empty: from anywhere.",
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.display_name or self.name


class DeploymentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Deployments of models this user may see."""
        return self.filter(model__in=RegisteredModel.objects.visible_to(user))

    def active(self):
        return self.filter(status=Deployment.Status.ACTIVE)

    def live_at(self, moment):
        """Deployments that were serving at ``moment``: started at or before it and not yet
        ended (a deployment that ended exactly then had already been replaced)."""
        return self.filter(deployed_at__lte=moment).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=moment)
        )

    def overlapping(self, since=None, until=None):
        """Deployments that served at some moment in [since, until]; either end may be open."""
        rows = self
        if until is not None:
            rows = rows.filter(deployed_at__lte=until)
        if since is not None:
            rows = rows.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
        return rows


class Deployment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        ROLLED_BACK = "rolled_back", "Rolled back"
        RETIRED = "retired", "Retired"

    # Denormalised from version.model so the database can enforce one full-traffic
    # deployment per (model, environment).
    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="deployments")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="deployments")
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="deployments"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    target = models.CharField(max_length=300, blank=True, help_text="Endpoint, cluster, …")
    traffic_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    notes = models.TextField(blank=True)
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    deployed_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The pk of the approvals_app.ApprovalRequest that allowed this deployment. A plain number,
    # not a foreign key: models_app never imports approvals_app, and a ForeignKey to it would
    # make this app's migrations depend on the other's. Deployments are never deleted and
    # approval requests are PROTECTed, so the number keeps pointing at the same request.
    approval_reference = models.PositiveBigIntegerField(null=True, blank=True)
    # Set when an admin promoted past the environment's promotion path.
    override_reason = models.TextField(blank=True)
    rolled_back_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rollbacks",
        help_text="The deployment this one replaced by rolling back.",
    )
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supersedes",
        help_text="The deployment that replaced this one.",
    )

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-deployed_at"]
        indexes = [
            models.Index(
                fields=["environment", "model", "deployed_at"], name="deployment_env_timeline"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "environment"],
                condition=Q(status="active", traffic_percent=100),
                name="deployment_one_full_traffic_active",
            ),
            models.CheckConstraint(
                condition=Q(traffic_percent__gte=1, traffic_percent__lte=100),
                name="deployment_traffic_percent_range",
            ),
            # "What was live at 14:00" reads deployed_at/ended_at, so an active deployment must
            # be open-ended and an ended one must say when it ended.
            models.CheckConstraint(
                condition=Q(status="active", ended_at__isnull=True)
                | (~Q(status="active") & Q(ended_at__isnull=False)),
                name="deployment_ended_unless_active",
            ),
            # That canary shares of one model in one environment stay below 100 together is a
            # rule over several rows, which no portable constraint can express; promotion
            # enforces it under a row lock on the model (approvals_app.promotion).
        ]

    def __str__(self):
        return f"{self.version} in {self.environment.name}"


class Application(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="applications")
    contact = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Dependency(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="dependencies"
    )
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="dependents")
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    alias_name = models.CharField(max_length=60, blank=True)
    pinned_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="pinned_by"
    )

    class Meta:
        verbose_name_plural = "dependencies"
        ordering = ["application__name", "model__name"]

    def __str__(self):
        via = self.alias_name or (self.environment and self.environment.name) or "pinned"
        return f"{self.application} → {self.model} ({via})"

    def clean(self):
        if not (self.environment_id or self.alias_name or self.pinned_version_id):
            raise ValidationError("Name an environment, an alias or a pinned version.")
        if self.pinned_version_id and self.pinned_version.model_id != self.model_id:
            raise ValidationError({"pinned_version": "The pinned version is of another model."})


_AUDIT_NOUNS = {"artifact": "artefact"}
_AUDIT_VERB_TONES = {
    "good": {"created", "registered", "set", "attached", "approved", "restored", "promoted"},
    "bad": {"deleted", "archived", "rejected", "retired", "rolled_back", "revoked", "withdrawn"},
    "info": {"updated", "card_updated", "moved", "metrics_logged", "requested", "reviewed"},
}


def audit_action_label(code: str) -> str:
    """A dotted action code as words: the object's noun, then the verb."""
    parts = code.split(".")
    if len(parts) < 2:
        return code.replace("_", " ").capitalize()
    noun = _AUDIT_NOUNS.get(parts[-2], parts[-2])
    return f"{noun} {parts[-1]}".replace("_", " ").capitalize()


class AccessToken(models.Model):
    """A personal access token for the APIs and the MLflow client.

    Only a sha256 of the token is stored: the token itself is shown once, when it is made.
    A token has high entropy, so a fast hash is enough; the prefix finds the row without
    scanning, and is what lists show.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'CI pipeline'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Events this user may read: those of models they can see, plus organisation events
        (teams, memberships …) that concern no model. Superusers read everything."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        # A correlated EXISTS rather than IN (…): with IN, SQLite answers "newest 50" by sorting
        # every visible event; with EXISTS it walks the sequence index and stops after 50.
        visible = RegisteredModel.objects.visible_to(user).filter(name=OuterRef("model_name"))
        return self.filter(Q(model_name="") | Exists(visible))

    # The ledger is append-only: bulk changes are refused outright.
    def update(self, **kwargs):
        raise TypeError("Audit events are never updated.")

    def delete(self):
        raise TypeError("Audit events are never deleted.")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained ledger. Written only by audit.record_event."""

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    # Kept as text so the ledger still says who acted after the account is gone.
    actor_username = models.CharField(max_length=150, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=300)
    # Link to the model the event concerns, for "history of this model" queries.
    model_name = models.CharField(max_length=100, blank=True, db_index=True)
    version_number = models.PositiveIntegerField(null=True, blank=True)
    # Canonical JSON text, not a JSONField: the hash is computed over exactly these bytes,
    # and a JSON column may normalise numbers or key order differently per database.
    changes = models.TextField(default="{}")
    created_at = models.DateTimeField(db_index=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are never deleted.")

    @property
    def changes_dict(self) -> dict:
        return json.loads(self.changes)

    @property
    def action_label(self) -> str:
        """'models_app.version.metrics_logged' reads as 'Version metrics logged'."""
        return audit_action_label(self.action)

    @property
    def action_tone(self) -> str:
        """good / bad / info / '' by the action's verb, for the badge colour."""
        verb = self.action.rsplit(".", 1)[-1]
        for tone, verbs in _AUDIT_VERB_TONES.items():
            if verb in verbs:
                return tone
        return ""

    @property
    def before(self) -> dict:
        return self.changes_dict.get("before") or {}

    @property
    def after(self) -> dict:
        return self.changes_dict.get("after") or {}


class AuditChainHead(models.Model):
    """A single row locked by every audit write, so the chain is extended one event at a time."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"audit head #{self.last_sequence}"
