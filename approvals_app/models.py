"""Governance: approval policies, requests, reviews and the evidence frozen at approval.

Rows are written only by approvals_app.services; this module depends on models_app, never
the other way round.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from models_app.models import Environment, Membership, ModelVersion, RegisteredModel


class ReviewerRole(models.Model):
    """A group whose members review across the organisation (e.g. Risk & compliance).

    Team reviewers (Membership role reviewer or admin) review their own team's models; members
    of a reviewer-role group review every team's. A policy can require a role among approvers.
    """

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="reviewer_role")
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["group__name"]

    def __str__(self):
        return self.group.name


class ApprovalPolicy(models.Model):
    """What promotion into an environment needs, for models of the given risk tiers."""

    name = models.CharField(max_length=120)
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="approval_policies"
    )
    # Stored as a list of RegisteredModel.RiskTier values; an empty list means every tier.
    risk_tiers = models.JSONField(default=list, blank=True)
    required_approvals = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)]
    )
    required_roles = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        help_text="Reviewer groups that must each be among the approvers.",
    )
    require_model_card = models.BooleanField(default=True)
    validity_days = models.PositiveIntegerField(
        default=90, help_text="How long an approval can be used for promotion."
    )
    author_may_approve = models.BooleanField(
        default=False,
        help_text="Whether the version's creator or the requester may approve. Off by default.",
    )
    allow_admin_override = models.BooleanField(
        default=False,
        help_text="Whether a superuser may approve past a failing gate, with a written reason.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["environment__order", "name"]
        verbose_name_plural = "approval policies"

    def __str__(self):
        return self.name

    def clean(self):
        valid = set(RegisteredModel.RiskTier.values)
        if not isinstance(self.risk_tiers, list) or not set(self.risk_tiers) <= valid:
            raise ValidationError({"risk_tiers": f"A list drawn from: {', '.join(sorted(valid))}."})

    def applies_to_tier(self, risk_tier: str) -> bool:
        return not self.risk_tiers or risk_tier in self.risk_tiers


class ChecklistItem(models.Model):
    policy = models.ForeignKey(
        ApprovalPolicy, on_delete=models.CASCADE, related_name="checklist_items"
    )
    text = models.CharField(max_length=300)
    requires_evidence = models.BooleanField(
        default=False, help_text="Ticking it needs a note or a link to evidence."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return self.text


class MetricGate(models.Model):
    class Kind(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute threshold"
        RELATIVE = "relative", "No worse than the current deployment"

    class Operator(models.TextChoices):
        GTE = ">=", "≥"
        LTE = "<=", "≤"

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="gates")
    metric_key = models.CharField(max_length=128)
    metric_slice = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ABSOLUTE)
    operator = models.CharField(
        max_length=2, choices=Operator.choices, blank=True, help_text="Absolute gates only."
    )
    threshold = models.FloatField(null=True, blank=True, help_text="Absolute gates only.")
    max_regression_percent = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Relative gates: how much worse than the current deployment is tolerated.",
    )
    blocking = models.BooleanField(default=True)

    class Meta:
        ordering = ["metric_key", "id"]

    def __str__(self):
        if self.kind == self.Kind.ABSOLUTE:
            return f"{self.metric_key} {self.operator} {self.threshold:g}"
        return f"{self.metric_key} no worse than current by {self.max_regression_percent:g}%"

    def clean(self):
        if self.kind == self.Kind.ABSOLUTE and (not self.operator or self.threshold is None):
            raise ValidationError("An absolute gate needs an operator and a threshold.")
        if self.kind == self.Kind.RELATIVE and self.max_regression_percent is None:
            raise ValidationError("A relative gate needs the tolerated regression in percent.")


class ApprovalRequestQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(version__model__in=RegisteredModel.objects.visible_to(user))

    def open(self):
        return self.filter(status__in=ApprovalRequest.OPEN_STATUSES)

    def awaiting_review_by(self, user):
        """Open requests this user may review and has not approved yet in the current round:
        team reviewers (role reviewer/admin) see their teams' models, members of a reviewer
        role every visible model, superusers all. Their own requests (and, unless the policy
        allows it, their own versions) are left out."""
        if not user.is_authenticated:
            return self.none()
        requests = self.visible_to(user).open().exclude(requester=user)
        if not user.is_superuser:
            team_reviewer = Membership.objects.filter(
                user=user,
                team=OuterRef("version__model__team"),
                role__in=[Membership.Role.REVIEWER, Membership.Role.ADMIN],
            )
            org_reviewer = ReviewerRole.objects.filter(group__user=user)
            requests = requests.filter(Exists(team_reviewer) | Exists(org_reviewer))
        already_approved = Review.objects.filter(
            request=OuterRef("pk"),
            reviewer=user,
            round=OuterRef("round"),
            decision=Review.Decision.APPROVE,
        )
        return requests.exclude(version__created_by=user, policy__author_may_approve=False).exclude(
            Exists(already_approved)
        )


class ApprovalRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        SUPERSEDED = "superseded", "Superseded"

    OPEN_STATUSES = (Status.OPEN, Status.CHANGES_REQUESTED)

    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="approval_requests"
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="approval_requests"
    )
    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.PROTECT, related_name="requests")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_requests"
    )
    justification = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Frozen when the request is approved: metrics, gate results, checklist, artefact digests
    # and model card as they were at that moment. Never rewritten afterwards.
    evidence = models.JSONField(default=dict, blank=True)
    override_reason = models.TextField(blank=True)
    # Bumped when the requester re-submits after "request changes"; earlier reviews stop counting.
    round = models.PositiveSmallIntegerField(default=1)

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One live request per version and environment; a new one needs the old closed.
            models.UniqueConstraint(
                fields=["version", "environment"],
                condition=Q(status__in=["open", "changes_requested"]),
                name="approval_one_open_request_per_target",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.version} → {self.environment.name}"

    def get_absolute_url(self):
        return reverse("approvals_app:request_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_expired(self) -> bool:
        return (
            self.status == self.Status.APPROVED
            and self.expires_at is not None
            and self.expires_at <= timezone.now()
        )

    @property
    def is_valid_approval(self) -> bool:
        return self.status == self.Status.APPROVED and not self.is_expired

    @property
    def display_status(self) -> str:
        return "Expired" if self.is_expired else self.get_status_display()

    def expiry_from(self, moment):
        return moment + timedelta(days=self.policy.validity_days)


class Review(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"
        REQUEST_CHANGES = "request_changes", "Request changes"

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    # The reviewer groups the reviewer held when deciding (names), for the quorum and the record.
    roles = models.JSONField(default=list, blank=True)
    # Reviews of earlier rounds (before a re-submission) no longer count toward the quorum.
    round = models.PositiveSmallIntegerField(default=1)
    is_override = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A double-clicked approve records one review: one approval per reviewer per round.
            models.UniqueConstraint(
                fields=["request", "reviewer", "round"],
                condition=Q(decision="approve"),
                name="review_one_approval_per_reviewer_round",
            )
        ]

    def __str__(self):
        return f"{self.reviewer} {self.decision} #{self.request_id}"


class ChecklistTick(models.Model):
    request = models.ForeignKey(
        ApprovalRequest, on_delete=models.CASCADE, related_name="checklist_ticks"
    )
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    ticked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item__order", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "item"], name="checklist_tick_unique")
        ]

    def __str__(self):
        return f"{self.item} ✓"
