"""The approvals admin for ops staff.

Policies and reviewer roles are reference data edited here; each change is written together
with its audit event in one transaction. Requests and reviews are records of decisions: they
change only through approvals_app.services, so they are read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.html import format_html_join

from approvals_app import promotion
from approvals_app.models import (
    ApprovalPolicy,
    ApprovalRequest,
    ChecklistItem,
    ChecklistTick,
    MetricGate,
    Review,
    ReviewerRole,
)
from approvals_app.services import quorum_state
from models_app import services
from models_app.admin import (
    AuditedAdminMixin,
    DeploymentAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    _pretty_json,
)
from models_app.models import Deployment, RegisteredModel
from models_app.services import RegistryError

POLICY_FIELDS = (
    "name",
    "required_approvals",
    "require_model_card",
    "validity_days",
    "author_may_approve",
    "allow_admin_override",
    "active",
)


def policy_snapshot(policy: ApprovalPolicy) -> dict:
    """A policy with its roles, gates and checklist as plain data, for the audit ledger."""
    data = {field: getattr(policy, field) for field in POLICY_FIELDS}
    data["environment"] = policy.environment.name
    data["risk_tiers"] = sorted(policy.risk_tiers)
    data["required_roles"] = sorted(policy.required_roles.values_list("name", flat=True))
    data["gates"] = [
        {
            "metric_key": gate.metric_key,
            "metric_slice": gate.metric_slice,
            "kind": gate.kind,
            "operator": gate.operator,
            "threshold": gate.threshold,
            "max_regression_percent": gate.max_regression_percent,
            "blocking": gate.blocking,
        }
        for gate in policy.gates.order_by("metric_key", "metric_slice", "pk")
    ]
    data["checklist"] = [
        {"text": item.text, "requires_evidence": item.requires_evidence}
        for item in policy.checklist_items.order_by("order", "pk")
    ]
    return data


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


# --- reviewer roles --------------------------------------------------------------------------


@admin.register(ReviewerRole)
class ReviewerRoleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["group", "description", "member_list"]
    search_fields = ["group__name", "description"]
    list_select_related = ["group"]
    autocomplete_fields = ["group"]

    def _audit_action(self, obj, verb: str) -> str:
        return f"approvals.reviewer_role.{verb}"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("group__user_set")

    @admin.display(description="members")
    def member_list(self, obj):
        return ", ".join(sorted(user.get_username() for user in obj.group.user_set.all()))


# --- policies --------------------------------------------------------------------------------


class ApprovalPolicyForm(forms.ModelForm):
    risk_tiers = forms.MultipleChoiceField(
        choices=RegisteredModel.RiskTier.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The risk tiers this policy covers; none ticked means every tier.",
    )

    class Meta:
        model = ApprovalPolicy
        fields = [
            "name",
            "environment",
            "risk_tiers",
            "active",
            "required_approvals",
            "required_roles",
            "author_may_approve",
            "require_model_card",
            "validity_days",
            "allow_admin_override",
        ]

    def clean(self):
        cleaned = super().clean()
        environment = cleaned.get("environment")
        if environment is None or not cleaned.get("active"):
            return cleaned
        # find_policy takes the oldest active policy that covers a tier, so a second one for
        # the same tiers would be saved and then silently never apply.
        every_tier = set(RegisteredModel.RiskTier.values)
        tiers = set(cleaned.get("risk_tiers") or []) or every_tier
        others = ApprovalPolicy.objects.filter(environment=environment, active=True).exclude(
            pk=self.instance.pk
        )
        for other in others.order_by("pk"):
            shared = tiers & (set(other.risk_tiers) or every_tier)
            if shared:
                raise forms.ValidationError(
                    f"The active policy “{other}” already covers "
                    f"{', '.join(sorted(shared))}-risk models in {environment}; only one policy "
                    "applies per environment and risk tier. Deactivate that one, or choose "
                    "other tiers."
                )
        return cleaned


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    fields = ["order", "text", "requires_evidence"]
    extra = 0


class MetricGateInline(admin.TabularInline):
    model = MetricGate
    fields = [
        "metric_key",
        "metric_slice",
        "kind",
        "operator",
        "threshold",
        "max_regression_percent",
        "blocking",
    ]
    extra = 0


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    form = ApprovalPolicyForm
    list_display = [
        "name",
        "environment",
        "tiers",
        "required_approvals",
        "roles",
        "validity_days",
        "allow_admin_override",
        "active",
    ]
    list_filter = ["environment", "active", "allow_admin_override"]
    search_fields = ["name"]
    list_select_related = ["environment"]
    filter_horizontal = ["required_roles"]
    inlines = [MetricGateInline, ChecklistItemInline]
    fieldsets = [
        (None, {"fields": ["name", "environment", "risk_tiers", "active"]}),
        ("Quorum", {"fields": ["required_approvals", "required_roles", "author_may_approve"]}),
        (
            "Evidence",
            {"fields": ["require_model_card", "validity_days", "allow_admin_override"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("required_roles")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "required_roles":
            # Only reviewer-role groups can ever be held by an approver.
            kwargs["queryset"] = Group.objects.filter(reviewer_role__isnull=False)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="risk tiers")
    def tiers(self, obj):
        return ", ".join(obj.risk_tiers) if obj.risk_tiers else "every tier"

    @admin.display(description="required roles")
    def roles(self, obj):
        return ", ".join(sorted(group.name for group in obj.required_roles.all())) or "—"

    def save_model(self, request, obj, form, change):
        # Saved in save_related instead, together with the roles, gates and checklist, so
        # that one audit event shows the whole change.
        pass

    def save_related(self, request, form, formsets, change):
        policy = form.instance
        with transaction.atomic():
            before = policy_snapshot(ApprovalPolicy.objects.get(pk=policy.pk)) if change else None
            policy.save()
            super().save_related(request, form, formsets, change)
            after = policy_snapshot(policy)
            if before is None:
                services.record_admin_change(
                    actor=request.user,
                    obj=policy,
                    action="approvals.policy.created",
                    before=None,
                    after=after,
                )
                return
            old, new = _changed(before, after)
            if new:
                services.record_admin_change(
                    actor=request.user,
                    obj=policy,
                    action="approvals.policy.updated",
                    before=old,
                    after=new,
                )

    def _delete_audited(self, request, policy) -> None:
        with transaction.atomic():
            # Recorded first: the event names the row by its primary key, gone after delete.
            services.record_admin_change(
                actor=request.user,
                obj=policy,
                action="approvals.policy.deleted",
                before=policy_snapshot(policy),
                after=None,
            )
            policy.delete()

    def delete_model(self, request, obj):
        self._delete_audited(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for policy in queryset:
                self._delete_audited(request, policy)


# --- requests and reviews: records of decisions ---------------------------------------------

READ_ONLY_NOTE = (
    "Read-only: requests and reviews change only through the approval workflow (request, "
    "review, withdraw, re-submit), which checks the rules and writes the audit ledger."
)


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = ["created_at", "reviewer", "decision", "round", "roles", "is_override", "comment"]
    related = ["reviewer"]


class ChecklistTickInline(ReadOnlyInline):
    model = ChecklistTick
    fields = ["item", "ticked_by", "note", "evidence_url", "ticked_at"]
    related = ["item", "ticked_by"]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "version",
        "environment",
        "status_shown",
        "requester",
        "round",
        "created_at",
        "decided_at",
        "expires_at",
    ]
    list_display_links = ["pk", "version"]
    list_filter = ["status", "environment", "version__model__risk_tier", "version__model__team"]
    search_fields = ["version__model__name", "version__model__display_name", "=pk"]
    list_select_related = ["version__model", "environment", "requester"]
    date_hierarchy = "created_at"
    inlines = [ReviewInline, ChecklistTickInline]
    fieldsets = [
        (
            None,
            {
                "description": READ_ONLY_NOTE,
                "fields": [
                    "version",
                    "environment",
                    "policy",
                    "requester",
                    "justification",
                    "status_shown",
                    "still_missing",
                    "round",
                    "created_at",
                    "updated_at",
                    "decided_at",
                    "expires_at",
                    "override_reason",
                ],
            },
        ),
        ("Evidence frozen at approval", {"fields": ["evidence_pretty"]}),
    ]
    readonly_fields = [
        "version",
        "environment",
        "policy",
        "requester",
        "justification",
        "status_shown",
        "still_missing",
        "round",
        "created_at",
        "updated_at",
        "decided_at",
        "expires_at",
        "override_reason",
        "evidence_pretty",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"subtitle": READ_ONLY_NOTE, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.display(description="status", ordering="status")
    def status_shown(self, obj):
        # "Expired" is derived from expires_at; the stored status stays "approved".
        return obj.display_status

    @admin.display(description="still missing")
    def still_missing(self, obj):
        if not obj.is_open:
            return "—"
        needs = quorum_state(obj).describe_missing()
        if not needs:
            return "Nothing: waiting for the gates to pass."
        return format_html_join("", "<div>{}</div>", ((need,) for need in needs))

    @admin.display(description="evidence")
    def evidence_pretty(self, obj):
        if not obj.evidence:
            return "Not approved, so nothing is frozen."
        return _pretty_json(obj.evidence)


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["request", "reviewer", "decision", "round", "is_override", "created_at"]
    list_filter = ["decision", "is_override"]
    search_fields = ["request__version__model__name", "reviewer__username", "comment"]
    list_select_related = ["request__version__model", "request__environment", "reviewer"]
    date_hierarchy = "created_at"
    fields = ["request", "reviewer", "decision", "comment", "roles", "round", "is_override"]
    readonly_fields = fields

    def get_queryset(self, request):
        visible = RegisteredModel.objects.visible_to(request.user)
        return super().get_queryset(request).filter(request__version__model__in=visible)


class GovernedDeploymentAdmin(DeploymentAdmin):
    """Deployments stay read-only; the one change ops staff may make here is a rollback,
    through the same service, approval check and audit event as the timeline's button."""

    actions = ["roll_back"]

    @admin.action(
        description="Roll back the model in this environment to its previous version",
        permissions=["view"],
    )
    def roll_back(self, request, queryset):
        live = queryset.filter(status=Deployment.Status.ACTIVE, traffic_percent=100)
        if not live.exists():
            self.message_user(
                request,
                "Select the live, full-traffic deployments to roll back; the others have "
                "nothing to roll back from.",
                messages.WARNING,
            )
            return
        for deployment in live.select_related("model", "environment", "version"):
            try:
                restored = promotion.rollback(
                    actor=request.user,
                    model=deployment.model,
                    environment=deployment.environment,
                    reason="Rolled back by ops staff in the admin.",
                    expected_live=deployment.pk,
                )
            except RegistryError as exc:
                self.message_user(request, f"{deployment}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{deployment.model.name} in {deployment.environment.name}: back to "
                    f"v{restored.version.version}.",
                    messages.SUCCESS,
                )


admin.site.unregister(Deployment)
admin.site.register(Deployment, GovernedDeploymentAdmin)
