"""Forms of the catalogue pages. They only clean input; the services decide and write."""

import json
import math
import shlex

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from models_app.models import (
    METRIC_KEY_MAX_LENGTH,
    ROLE_RANK,
    Artifact,
    Environment,
    ModelVersion,
    RegisteredModel,
    Team,
    VersionDataset,
    metric_key_validator,
)
from models_app.services import RegistryError, normalise_tags
from models_app.templatetags.registry_tags import filesize
from models_app.validators import validate_model_name

# --- models (catalogue pages) ---------------------------------------------------------------


class TagsField(forms.CharField):
    """Comma-separated tag names in, a normalised list of names out."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Comma-separated, e.g. tabular, fraud, payments.")
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        return [part for part in (p.strip() for p in text.split(",")) if part]

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def validate(self, value):
        super().validate(value)
        try:
            normalise_tags(value)
        except RegistryError as exc:
            raise ValidationError(exc.message) from None


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.get_username()})" if full_name else obj.get_username()


class _ModelDetailsForm(forms.Form):
    display_name = forms.CharField(
        max_length=200, required=False, help_text="How people call it, e.g. Fraud detector."
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        help_text="Markdown: what it does, for whom, and how it is used.",
    )
    responsible = PersonChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="Nobody yet",
        help_text="The person accountable for this model.",
    )
    task = forms.ChoiceField(choices=RegisteredModel.Task.choices)
    risk_tier = forms.ChoiceField(
        choices=RegisteredModel.RiskTier.choices,
        help_text="After the EU AI Act's categories; high-risk models need more sign-off.",
    )
    restricted = forms.BooleanField(
        required=False,
        help_text="Only members of the owning team (and superusers) can see a restricted model.",
    )
    tags = TagsField()


class ModelCreateForm(_ModelDetailsForm):
    name = forms.CharField(
        max_length=100,
        validators=[validate_model_name],
        help_text="Lower-case letters, digits, '.', '_' and '-'; how APIs address the model. "
        "It cannot be changed later.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        empty_label="Choose a team",
        help_text="Only teams where you are a contributor are listed.",
    )

    field_order = [
        "name", "display_name", "team", "description", "responsible", "task", "risk_tier",
        "restricted", "tags",
    ]  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams_user_can_create_in(user)


def teams_user_can_create_in(user):
    """Teams where this user may create models: contributor or higher; superusers: all."""
    if user.is_superuser:
        return Team.objects.order_by("name")
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK["contributor"]]
    return Team.objects.filter(memberships__user=user, memberships__role__in=roles).order_by("name")


class ModelEditForm(_ModelDetailsForm):
    """Everything but the name and the team, which other systems rely on."""


class ArchiveForm(forms.Form):
    reason = forms.CharField(
        max_length=500, required=False, widget=forms.TextInput(attrs={"placeholder": "Why?"})
    )


class AliasForm(forms.Form):
    name = forms.CharField(
        max_length=60, widget=forms.TextInput(attrs={"placeholder": "e.g. champion"})
    )
    version = forms.IntegerField(min_value=1)


# --- versions (version pages) ---------------------------------------------------------------

DATASET_LINE_HELP = (
    "One dataset per line: role name [version] [uri] [digest], separated by spaces. "
    "role is training, validation or evaluation; write - for a part you want to leave out. "
    "e.g. training transactions 2024-06 s3://datasets/tx/2024-06 sha256:9f2c…"
)
METRIC_LINES_MAX = 1000


def _refuse_non_finite(constant: str):
    raise ValueError(f"{constant} is not allowed in JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


class VersionForm(forms.Form):
    """Registering a version: metadata, lineage, datasets and the model card."""

    framework = forms.ChoiceField(
        choices=[("", "Not stated")] + ModelVersion.Framework.choices, required=False
    )
    framework_version = forms.CharField(
        max_length=50, required=False, widget=forms.TextInput(attrs={"placeholder": "e.g. 2.3.1"})
    )
    architecture = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. gradient-boosted trees, 400 rounds"}),
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown: what changed compared with the parent and why.",
    )
    source_uri = forms.CharField(
        max_length=1000,
        required=False,
        label="Source URI",
        help_text="The run, job or commit that produced this version, e.g. an experiment URL.",
    )
    hyperparameters = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "class": "mono",
                "spellcheck": "false",
                "placeholder": '{"learning_rate": 0.05, "max_depth": 8, "n_estimators": 400}',
            }
        ),
        help_text='A JSON object, e.g. {"learning_rate": 0.05, "max_depth": 8}.',
    )
    parent = forms.CharField(
        max_length=120,
        required=False,
        label="Parent version",
        widget=forms.TextInput(
            attrs={"list": "parent-versions", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text="The version this one was fine-tuned or derived from: model-name:version "
        "(e.g. fraud-detector:3), or just the number for a version of this model.",
    )
    external_base_model = forms.CharField(
        max_length=300,
        required=False,
        help_text="A base model outside the registry, e.g. a public checkpoint "
        "such as mistralai/Mistral-7B-v0.3.",
    )
    datasets = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "class": "mono",
                "spellcheck": "false",
                "placeholder": "training   transactions 2024-06 s3://datasets/tx/2024-06 "
                "sha256:9f2c41…\nvalidation transactions 2024-07\n"
                "evaluation holdout-q3   -       s3://datasets/eval/holdout-q3",
            }
        ),
        help_text=DATASET_LINE_HELP,
    )
    intended_use = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown: who should use it, for what, and what it must not be used for.",
    )
    limitations = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown: known failure modes, data it was not trained on.",
    )
    ethical_considerations = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown: fairness findings, affected groups, mitigations.",
    )
    tags = TagsField()

    def __init__(self, *args, model: RegisteredModel, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        self.user = user

    def clean_hyperparameters(self) -> dict:
        text = self.cleaned_data["hyperparameters"].strip()
        if not text:
            return {}
        try:
            # NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them.
            value = json.loads(text, parse_constant=_refuse_non_finite, parse_float=_finite_float)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"This is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
        except ValueError as exc:
            raise ValidationError(f"This is not valid JSON: {exc}.") from None
        if not isinstance(value, dict):
            raise ValidationError(
                'Hyperparameters must be a JSON object of names and values, e.g. {"epochs": 10}.'
            )
        return value

    def clean_parent(self) -> ModelVersion | None:
        text = self.cleaned_data["parent"].strip()
        if not text:
            return None
        model_name, sep, number = text.rpartition(":")
        if not sep:
            model_name = self.model.name
        number = number.strip().removeprefix("v")
        if not number.isdigit():
            raise ValidationError(
                f"'{text}' is not of the form model-name:version, e.g. {self.model.name}:1."
            )
        parent = (
            ModelVersion.objects.visible_to(self.user)
            .select_related("model")
            .filter(model__name=model_name.strip() or self.model.name, version=int(number))
            .first()
        )
        if parent is None:
            raise ValidationError(f"There is no version '{text}' that you can see.")
        return parent

    def clean_datasets(self) -> list[dict[str, str]]:
        return parse_dataset_lines(self.cleaned_data["datasets"])


def parse_dataset_lines(text: str) -> list[dict[str, str]]:
    """Parse the datasets textarea (see DATASET_LINE_HELP); errors name the line."""
    roles = VersionDataset.Role.values
    limits = {"name": 200, "version": 100, "uri": 1000, "digest": 200}
    entries, seen = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 2:
            raise ValidationError(f"Line {number}: give at least a role and a name.")
        if len(parts) > 5:
            raise ValidationError(
                f"Line {number}: {len(parts)} parts, but a line has at most 5 "
                "(role name version uri digest); names and URIs cannot contain spaces."
            )
        role = parts[0].lower()
        if role not in roles:
            raise ValidationError(
                f"Line {number}: '{parts[0]}' is not a role; use {', '.join(roles)}."
            )
        values = [("" if part == "-" else part) for part in parts[1:]]
        entry = dict(zip(("name", "version", "uri", "digest"), values, strict=False))
        if not entry["name"]:
            raise ValidationError(f"Line {number}: the dataset needs a name.")
        for part, limit in limits.items():
            if len(entry.get(part, "")) > limit:
                raise ValidationError(
                    f"Line {number}: the {part} is longer than {limit} characters."
                )
        identity = (role, entry["name"], entry.get("version", ""))
        if identity in seen:
            raise ValidationError(f"Line {number} repeats line {seen[identity]}.")
        seen[identity] = number
        entries.append({"role": role, **entry})
    return entries


class VersionCardForm(forms.Form):
    """The parts of a version that may change after registration."""

    description = VersionForm.base_fields["description"]
    intended_use = VersionForm.base_fields["intended_use"]
    limitations = VersionForm.base_fields["limitations"]
    ethical_considerations = VersionForm.base_fields["ethical_considerations"]
    tags = TagsField()


class MetricsForm(forms.Form):
    metrics = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "class": "mono", "spellcheck": "false"}),
        help_text="One metric per line: key value [step] [slice], separated by spaces. "
        "Write - for no step when you give a slice, and quote a key or slice that has spaces. "
        "Lines starting with # are ignored.",
    )

    def clean_metrics(self) -> list[dict]:
        return parse_metric_lines(self.cleaned_data["metrics"])


def parse_metric_lines(text: str) -> list[dict]:
    """Parse the metrics textarea into entries for services.log_metrics; errors name the line."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(entries) == METRIC_LINES_MAX:
            raise ValidationError(
                f"At most {METRIC_LINES_MAX} metrics at once; use the API for longer series."
            )
        try:
            parts = shlex.split(line)
        except ValueError:
            raise ValidationError(f"Line {number}: a quote is not closed.") from None
        if len(parts) < 2:
            raise ValidationError(f"Line {number}: give a key and a value, e.g. accuracy 0.93.")
        if len(parts) > 4:
            raise ValidationError(
                f"Line {number}: {len(parts)} parts, but a line has at most 4 "
                "(key value step slice); quote a slice that has spaces."
            )
        key, raw_value, *rest = parts
        if len(key) > METRIC_KEY_MAX_LENGTH:
            raise ValidationError(
                f"Line {number}: the key is longer than {METRIC_KEY_MAX_LENGTH} characters."
            )
        try:
            metric_key_validator(key)
        except ValidationError:
            raise ValidationError(
                f"Line {number}: '{key}' has characters not allowed in a key "
                "(letters, digits, spaces and _ . - / only)."
            ) from None
        try:
            value = float(raw_value)
        except ValueError:
            raise ValidationError(f"Line {number}: '{raw_value}' is not a number.") from None
        if not math.isfinite(value):
            raise ValidationError(
                f"Line {number}: the value must be a finite number, not '{raw_value}'."
            )
        step = None
        if rest and rest[0] != "-":
            if not rest[0].isdigit():
                raise ValidationError(
                    f"Line {number}: the step '{rest[0]}' is not a whole number; write - for "
                    f"no step before a slice, e.g. {key} {raw_value} - eval."
                )
            step = int(rest[0])
            if step >= 2**63:
                raise ValidationError(f"Line {number}: the step is too large.")
        metric_slice = rest[1] if len(rest) > 1 else ""
        if len(metric_slice) > 200:
            raise ValidationError(f"Line {number}: the slice is longer than 200 characters.")
        entries.append({"key": key, "value": value, "step": step, "slice": metric_slice})
    if not entries:
        raise ValidationError("Give at least one metric.")
    return entries


class ArtifactUploadForm(forms.Form):
    file = forms.FileField()
    path = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. weights/model.safetensors"}),
        help_text="Where the file sits within the version. Leave empty to use the file's name.",
    )
    kind = forms.ChoiceField(choices=Artifact.Kind.choices, initial=Artifact.Kind.WEIGHTS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = filesize(settings.ARTIFACT_MAX_UPLOAD_BYTES)
        self.fields["file"].help_text = f"At most {limit} per file."

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None and not (cleaned.get("path") or "").strip():
            cleaned["path"] = upload.name
        return cleaned


# --- applications, their dependencies, deprecation and retirement ---------------------------


class ApplicationForm(forms.Form):
    """Registering an application, or editing one (then without the slug, which is in URLs)."""

    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))
    slug = forms.SlugField(
        max_length=80,
        help_text="Its address in the registry: lower-case letters, digits and '-'. "
        "It cannot change later.",
    )
    owner_team = forms.ModelChoiceField(
        queryset=Team.objects.none(), to_field_name="slug", empty_label=None, label="Owner team"
    )
    contact = forms.CharField(
        max_length=200,
        required=False,
        help_text="A mailbox or channel that answers for it when a model changes.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What it does with the models it uses. Markdown.",
    )

    def __init__(self, *args, teams, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_team"].queryset = teams
        if editing:
            del self.fields["slug"]

    def clean_slug(self):
        return self.cleaned_data["slug"].lower()


class DependencyForm(forms.Form):
    """One dependency of an application: a model through an environment, an alias or a pinned
    version number (resolved here to the ModelVersion the service expects)."""

    model = forms.ModelChoiceField(
        queryset=RegisteredModel.objects.none(), to_field_name="name", empty_label="Choose a model"
    )
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.order_by("order", "name"),
        to_field_name="name",
        required=False,
        empty_label="—",
        help_text="Gets what serves full traffic there.",
    )
    alias_name = forms.CharField(
        max_length=60,
        required=False,
        label="Alias",
        widget=forms.TextInput(attrs={"placeholder": "e.g. champion"}),
        help_text="Gets the version the alias points at.",
    )
    pinned_version = forms.IntegerField(
        min_value=1,
        required=False,
        label="Pinned version",
        widget=forms.NumberInput(attrs={"placeholder": "e.g. 4"}),
        help_text="Always gets this version.",
    )

    def __init__(self, *args, models, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = models

    def clean(self):
        cleaned = super().clean()
        model, number = cleaned.get("model"), cleaned.get("pinned_version")
        if model is not None and number is not None:
            version = model.versions.filter(version=number).first()
            if version is None:
                self.add_error("pinned_version", f"{model.name} has no version {number}.")
            else:
                cleaned["pinned_version"] = version
        return cleaned


class DeprecateForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit ledger with the applications that use it now.",
    )


class RetireForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the audit ledger. Required when forcing.",
    )
    force = forms.BooleanField(
        required=False,
        label="Force the retirement although it is in use",
        help_text="Ends its active deployments and leaves the applications listed above "
        "without this version. Administrators only; audited with your reason.",
    )

    def __init__(self, *args, allow_force: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_force:
            del self.fields["force"]


# --- personal access tokens (account page) --------------------------------------------------

TOKEN_LIFETIMES = [
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
    (180, "180 days"),
    (366, "1 year"),
]


class AccessTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "e.g. fraud training pipeline"}),
        help_text="What will use it, so you know which one to revoke later.",
    )
    expires_in_days = forms.TypedChoiceField(
        choices=TOKEN_LIFETIMES,
        coerce=int,
        initial=90,
        label="Lifetime",
        help_text="It stops working after this; make a new one then.",
    )
