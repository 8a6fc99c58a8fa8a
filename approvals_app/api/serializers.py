"""What the approvals part of the API reads and writes."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from approvals_app.models import ApprovalRequest, ChecklistTick, Review
from models_app.api.serializers import RejectUnknownFields
from models_app.models import Deployment, Environment

USERNAME = get_user_model().USERNAME_FIELD


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Review
        fields = ["reviewer", "decision", "comment", "roles", "round", "is_override", "created_at"]
        read_only_fields = fields


class ApprovalRequestSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.name", read_only=True)
    version = serializers.IntegerField(source="version.version", read_only=True)
    environment = serializers.SlugRelatedField(slug_field="name", read_only=True)
    policy = serializers.CharField(source="policy.name", read_only=True)
    requester = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    display_status = serializers.CharField(read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "model",
            "version",
            "environment",
            "status",
            "display_status",
            "policy",
            "requester",
            "justification",
            "round",
            "created_at",
            "decided_at",
            "expires_at",
            "reviews",
            "web_url",
        ]
        read_only_fields = fields

    def get_web_url(self, obj) -> str:
        request = self.context.get("request")
        url = obj.get_absolute_url()
        return request.build_absolute_uri(url) if request else url


class ApprovalRequestCreateSerializer(RejectUnknownFields, serializers.Serializer):
    environment = serializers.SlugRelatedField(
        slug_field="name", queryset=Environment.objects.all()
    )
    justification = serializers.CharField(help_text="Why this version should go there.")


class ReviewCreateSerializer(RejectUnknownFields, serializers.Serializer):
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    confirmed = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approving a high-risk model is a two-step decision: send true to confirm.",
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Administrators only, where the policy allows: approve past a failing gate.",
    )


class WithdrawSerializer(RejectUnknownFields, serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ResubmitSerializer(RejectUnknownFields, serializers.Serializer):
    justification = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="What changed since the reviewers asked for changes; blank keeps the old one.",
    )


class ChecklistTickCreateSerializer(RejectUnknownFields, serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    evidence_url = serializers.URLField(
        max_length=ChecklistTick._meta.get_field("evidence_url").max_length,
        required=False,
        allow_blank=True,
        default="",
        help_text="Items that require evidence need a note or this link.",
    )


class ChecklistTickSerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="item_id", read_only=True)
    text = serializers.CharField(source="item.text", read_only=True)
    ticked_by = serializers.SlugRelatedField(slug_field=USERNAME, read_only=True)
    request_status = serializers.CharField(
        source="request.status",
        read_only=True,
        help_text="The request's status after the tick: the last missing item may approve it.",
    )

    class Meta:
        model = ChecklistTick
        fields = [
            "item",
            "text",
            "ticked_by",
            "note",
            "evidence_url",
            "ticked_at",
            "request_status",
        ]
        read_only_fields = fields


class PromoteSerializer(RejectUnknownFields, serializers.Serializer):
    environment = serializers.SlugRelatedField(
        slug_field="name", queryset=Environment.objects.all()
    )
    target = serializers.CharField(
        max_length=Deployment._meta.get_field("target").max_length,
        required=False,
        allow_blank=True,
        default="",
        help_text="Endpoint, cluster or job that serves it.",
    )
    traffic_percent = serializers.IntegerField(
        min_value=1,
        max_value=100,
        required=False,
        default=100,
        help_text="100 replaces what serves there now; less runs as a canary beside it.",
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Administrators only: promote past the environment's promotion path.",
    )


class RollbackSerializer(RejectUnknownFields, serializers.Serializer):
    environment = serializers.SlugRelatedField(
        slug_field="name", queryset=Environment.objects.all()
    )
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
