"""FilterSets for the approval lists."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from approvals_app.models import ApprovalRequest
from models_app.models import Environment, RegisteredModel, Team


class QueueFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            raise ValidationError("The 'created from' date is after the 'created to' date.")
        return cleaned


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _start_of(day) -> datetime:
    # Midnight in the site's time zone, so a date range means what the reader's calendar says.
    return timezone.make_aware(datetime.combine(day, time.min))


class ApprovalQueueFilter(django_filters.FilterSet):
    """The queue's filters: /approvals/?q=&environment=&team=&risk=&status=&older_than=
    &created_from=&created_to="""

    EXPIRED = "expired"

    q = django_filters.CharFilter(
        field_name="version__model__name",
        method="filter_text",
        label="Model",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Model name", "autocomplete": "off"}
        ),
    )
    environment = django_filters.ModelChoiceFilter(
        field_name="environment",
        to_field_name="name",
        # Only environments that have a policy can have requests.
        queryset=Environment.objects.filter(approval_policies__isnull=False).distinct(),
        empty_label="All environments",
    )
    team = django_filters.ModelChoiceFilter(
        field_name="version__model__team",
        to_field_name="slug",
        queryset=Team.objects.order_by("name"),
        empty_label="All teams",
        label="Team",
    )
    risk = django_filters.ChoiceFilter(
        field_name="version__model__risk_tier",
        lookup_expr="exact",
        choices=RegisteredModel.RiskTier.choices,
        empty_label="All risk tiers",
        label="Risk tier",
    )
    status = django_filters.ChoiceFilter(
        field_name="status",
        method="filter_status",
        choices=[*ApprovalRequest.Status.choices, (EXPIRED, "Expired")],
        empty_label="Any status",
    )
    older_than = WholeNumberFilter(
        field_name="created_at",
        method="filter_older_than",
        label="Older than (days)",
        min_value=0,
        widget=forms.NumberInput(attrs={"min": 0, "placeholder": "days"}),
    )
    created_from = django_filters.DateFilter(
        field_name="created_at",
        method="filter_created_from",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    created_to = django_filters.DateFilter(
        field_name="created_at",
        method="filter_created_to",
        label="Created to",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    class Meta:
        model = ApprovalRequest
        fields = []
        form = QueueFilterForm

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(version__model__name__icontains=value)
            | Q(version__model__display_name__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        approved = ApprovalRequest.Status.APPROVED
        if value == self.EXPIRED:
            return queryset.filter(status=approved, expires_at__lte=timezone.now())
        if value == approved:
            return queryset.filter(status=approved).exclude(expires_at__lte=timezone.now())
        return queryset.filter(status=value)

    def filter_older_than(self, queryset, name, value):
        return queryset.filter(created_at__lte=timezone.now() - timedelta(days=value))

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_created_to(self, queryset, name, value):
        # Inclusive: everything before the start of the following day.
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))
