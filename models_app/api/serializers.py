"""What the API reads and writes. Input serializers only clean a request for a service call;
output serializers describe rows. Neither saves anything."""

import math
from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.reverse import reverse

from models_app.models import (
    Alias,
    Artifact,
    Deployment,
    Membership,
    Metric,
    ModelVersion,
    RegisteredModel,
    Team,
    VersionDataset,
)

USERNAME = get_user_model().USERNAME_FIELD
TAGS_MAX = 50
DATASETS_MAX = 100
HYPERPARAMETERS_MAX_DEPTH = 20


def paginated(serializer_class, name: str):
    """The envelope PageNumberPagination wraps a list in, for the schema."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


class RejectUnknownFields:
    """Refuse keys the serializer does not know: a misspelt field in a pipeline's request
    should fail loudly, not be dropped without a word."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["This field is not known here."] for key in unknown}
                )
        return super().to_internal_value(data)


def _web_url(serializer, obj) -> str | None:
    request = serializer.context.get("request")
    url = obj.get_absolute_url()
    return request.build_absolute_uri(url) if request else url


def visible_team_ids(request) -> set[int]:
    """The teams of the requesting user (cached on the request): who may see which
    restricted model, for rows that name a model from another one."""
    if not hasattr(request, "_registry_team_ids"):
        request._registry_team_ids = set(
            Membership.objects.filter(user=request.user).values_list("team_id", flat=True)
        )
    return request._registry_team_ids


def _can_see(request, model: RegisteredModel) -> bool:
    if not model.restricted or request is None or request.user.is_superuser:
        return True
    return model.team_id in visible_team_ids(request)


# --- models --------------------------------------------------------------------------------


class RegisteredModelSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    responsible = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    archived = serializers.BooleanField(source="is_archived", read_only=True)
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = [
            "name",
            "display_name",
            "description",
            "team",
            "responsible",
            "task",
            "risk_tier",
            "restricted",
            "tags",
            "latest_version",
            "archived",
            "archived_at",
            "created_by",
            "created_at",
            "updated_at",
            "web_url",
        ]
        read_only_fields = fields

    def get_web_url(self, obj) -> str:
        return _web_url(self, obj)


class AliasSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.version", read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)

    class Meta:
        model = Alias
        fields = ["name", "version", "updated_by", "updated_at"]
        read_only_fields = fields


class RegisteredModelDetailSerializer(RegisteredModelSerializer):
    aliases = AliasSerializer(many=True, read_only=True)

    class Meta(RegisteredModelSerializer.Meta):
        fields = [*RegisteredModelSerializer.Meta.fields, "aliases"]
        read_only_fields = fields


class _ModelDetailsInput(RejectUnknownFields, serializers.Serializer):
    display_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    responsible = serializers.SlugRelatedField(
        slug_field=USERNAME,
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Username of the person accountable for the model.",
    )
    task = serializers.ChoiceField(choices=RegisteredModel.Task.choices, required=False)
    risk_tier = serializers.ChoiceField(choices=RegisteredModel.RiskTier.choices, required=False)
    restricted = serializers.BooleanField(required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=TAGS_MAX, required=False
    )


class RegisteredModelCreateSerializer(_ModelDetailsInput):
    name = serializers.CharField(
        max_length=100, help_text="Lower-case letters, digits, '.', '_' and '-'; never changes."
    )
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        help_text="Slug of the owning team; you need the contributor role there.",
    )


class RegisteredModelUpdateSerializer(_ModelDetailsInput):
    """Everything but the name and the team, which other systems rely on."""


class ArchiveSerializer(RejectUnknownFields, serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- versions ------------------------------------------------------------------------------


class VersionDatasetSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="dataset.name")
    version = serializers.CharField(source="dataset.version")
    uri = serializers.CharField(source="dataset.uri")
    digest = serializers.CharField(source="dataset.digest")

    class Meta:
        model = VersionDataset
        fields = ["role", "name", "version", "uri", "digest"]
        read_only_fields = fields


class ModelVersionSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    parent = serializers.SerializerMethodField()
    datasets = VersionDatasetSerializer(source="dataset_links", many=True, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    model_card_complete = serializers.BooleanField(read_only=True)
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "version",
            "framework",
            "framework_version",
            "architecture",
            "description",
            "source_uri",
            "hyperparameters",
            "parent",
            "external_base_model",
            "datasets",
            "intended_use",
            "limitations",
            "ethical_considerations",
            "model_card_complete",
            "tags",
            "created_by",
            "created_at",
            "deprecated_at",
            "retired_at",
            "evidence_locked_at",
            "web_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_parent(self, obj) -> str | None:
        """'model-name:version', or null when there is none or it belongs to a restricted
        model the reader may not see (its name alone would leak that it exists)."""
        parent = obj.parent
        if parent is None or not _can_see(self.context.get("request"), parent.model):
            return None
        return f"{parent.model.name}:{parent.version}"

    def get_web_url(self, obj) -> str:
        return _web_url(self, obj)


class DatasetEntrySerializer(RejectUnknownFields, serializers.Serializer):
    role = serializers.ChoiceField(
        choices=VersionDataset.Role.choices, default=VersionDataset.Role.TRAINING
    )
    name = serializers.CharField(max_length=200)
    version = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    uri = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    digest = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


def _check_finite(value: Any, path: str, depth: int = 0) -> None:
    # NaN and Infinity are not JSON; PostgreSQL's jsonb refuses them, and 1e999 parses as inf.
    if depth > HYPERPARAMETERS_MAX_DEPTH:
        raise serializers.ValidationError(f"{path} is nested too deeply.")
    if isinstance(value, float) and not math.isfinite(value):
        raise serializers.ValidationError(f"{path} must be a finite number, got {value}.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}[{index}]", depth + 1)


class ModelVersionRegisterSerializer(RejectUnknownFields, serializers.Serializer):
    framework = serializers.ChoiceField(
        choices=ModelVersion.Framework.choices, required=False, allow_blank=True, default=""
    )
    framework_version = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    architecture = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    source_uri = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="The run, job or commit that produced this version.",
    )
    hyperparameters = serializers.DictField(required=False, default=dict)
    parent = serializers.CharField(
        max_length=220,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="The version this one was derived from: 'model-name:version', or just the "
        "number for a version of the same model.",
    )
    external_base_model = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="A base model outside the registry, e.g. a public checkpoint.",
    )
    datasets = serializers.ListField(
        child=DatasetEntrySerializer(), max_length=DATASETS_MAX, required=False, default=list
    )
    intended_use = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    limitations = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    ethical_considerations = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60),
        max_length=TAGS_MAX,
        required=False,
        default=list,
    )

    def validate_hyperparameters(self, value: dict) -> dict:
        _check_finite(value, "hyperparameters")
        return value

    def validate_parent(self, text: str | None) -> ModelVersion | None:
        text = (text or "").strip()
        if not text:
            return None
        model = self.context["model"]
        model_name, sep, number = text.rpartition(":")
        model_name = model_name.strip() if sep else model.name
        number = number.strip().removeprefix("v")
        if not number.isdigit():
            raise serializers.ValidationError(
                f"'{text}' is not of the form model-name:version, e.g. {model.name}:1."
            )
        parent = (
            ModelVersion.objects.visible_to(self.context["request"].user)
            .select_related("model")
            .filter(model__name=model_name or model.name, version=int(number))
            .first()
        )
        if parent is None:
            raise serializers.ValidationError(f"There is no version '{text}' that you can see.")
        return parent


class VersionCardSerializer(RejectUnknownFields, serializers.Serializer):
    """The parts of a version that may change after registration."""

    description = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    intended_use = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    limitations = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    ethical_considerations = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=TAGS_MAX, required=False
    )


# --- metrics, artefacts, aliases -----------------------------------------------------------


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = Metric
        fields = ["key", "value", "step", "slice", "recorded_at"]
        read_only_fields = fields


class MetricEntrySerializer(serializers.Serializer):
    """One entry of a metrics batch (for the schema; log_metrics validates the entries)."""

    key = serializers.CharField(max_length=128)
    value = serializers.FloatField()
    step = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    slice = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MetricBatchResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    metrics = MetricSerializer(many=True)


class ArtifactSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = [
            "path",
            "kind",
            "size",
            "sha256",
            "content_type",
            "created_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        version = self.context["version"]
        return reverse(
            "api:artifact_download",
            args=[version.model.name, version.version, obj.path],
            request=self.context.get("request"),
        )


class ArtifactUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    path = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Path within the version, e.g. weights/model.onnx; defaults to the file name.",
    )
    kind = serializers.ChoiceField(choices=Artifact.Kind.choices, default=Artifact.Kind.OTHER)


class AliasSetSerializer(RejectUnknownFields, serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    confirm = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Move the alias even though applications follow it (they then get the new "
        "version). Without it such a move is refused with 409 and the list of applications.",
    )


class AliasDetailSerializer(AliasSerializer):
    model = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta(AliasSerializer.Meta):
        fields = ["model", *AliasSerializer.Meta.fields]
        read_only_fields = fields


class MembershipSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Membership
        fields = ["team", "role"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_superuser = serializers.BooleanField()
    teams = MembershipSerializer(many=True, source="memberships.all")


# --- deployments ---------------------------------------------------------------------------


class DeploymentSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)
    environment = serializers.SlugRelatedField(slug_field="name", read_only=True)
    deployed_by = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "model",
            "version",
            "environment",
            "status",
            "target",
            "traffic_percent",
            "notes",
            "deployed_by",
            "deployed_at",
            "ended_at",
            "approval_reference",
            "override_reason",
            "rolled_back_from",
            "superseded_by",
        ]
        read_only_fields = fields
