"""FilterSets for the HTML lists (and, later, the API that lists the same things)."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.http import QueryDict
from django.utils import timezone

from models_app.models import (
    Application,
    AuditEvent,
    ModelVersion,
    RegisteredModel,
    Tag,
    Team,
    audit_action_label,
)

_RISK_RANK = Case(
    When(risk_tier=RegisteredModel.RiskTier.MINIMAL, then=Value(0)),
    When(risk_tier=RegisteredModel.RiskTier.LIMITED, then=Value(1)),
    When(risk_tier=RegisteredModel.RiskTier.HIGH, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


class CatalogueOrdering(django_filters.OrderingFilter):
    """Sorts by the chosen columns, then by name so that pages never shuffle ties."""

    def filter(self, qs, value):
        if not value:
            return qs.order_by("name")
        ordering = [self.get_ordering_value(param) for param in value if param]
        if any(field.lstrip("-") == "risk_rank" for field in ordering):
            # Alphabetical order of the tier codes is not their order of severity.
            qs = qs.annotate(risk_rank=_RISK_RANK)
        if not any(field.lstrip("-") == "name" for field in ordering):
            ordering.append("name")
        return qs.order_by(*ordering)


class ModelFilter(django_filters.FilterSet):
    """The catalogue's filters: /models/?q=&team=&task=&framework=&risk=&status=&tag=&sort="""

    STATUS_CHOICES = [("active", "Active"), ("archived", "Archived"), ("all", "All")]

    q = django_filters.CharFilter(
        field_name="name",
        method="filter_text",
        label="Search",
        widget=forms.SearchInput(
            attrs={"placeholder": "Name, description or tag", "autocomplete": "off"}
        ),
    )
    team = django_filters.ModelChoiceFilter(
        field_name="team",
        to_field_name="slug",
        queryset=Team.objects.order_by("name"),
        empty_label="All teams",
        label="Team",
    )
    task = django_filters.ChoiceFilter(
        field_name="task",
        lookup_expr="exact",
        choices=RegisteredModel.Task.choices,
        empty_label="All tasks",
    )
    framework = django_filters.ChoiceFilter(
        field_name="versions__framework",
        method="filter_framework",
        choices=ModelVersion.Framework.choices,
        empty_label="All frameworks",
        label="Framework",
    )
    risk = django_filters.ChoiceFilter(
        field_name="risk_tier",
        lookup_expr="exact",
        choices=RegisteredModel.RiskTier.choices,
        empty_label="All risk tiers",
        label="Risk tier",
    )
    status = django_filters.ChoiceFilter(
        field_name="archived_at",
        method="filter_status",
        choices=STATUS_CHOICES,
        empty_label=None,
        label="Status",
    )
    tag = django_filters.ModelChoiceFilter(
        field_name="tags",
        to_field_name="name",
        method="filter_tag",
        queryset=Tag.objects.none(),
        empty_label="All tags",
        label="Tag",
    )
    sort = CatalogueOrdering(
        fields=(
            ("name", "name"),
            ("team__name", "team"),
            ("task", "task"),
            ("risk_rank", "risk"),
            ("latest_version", "latest"),
            ("updated_at", "updated"),
        ),
        field_labels={
            "name": "Name",
            "team__name": "Team",
            "task": "Task",
            "risk_rank": "Risk tier",
            "latest_version": "Latest version",
            "updated_at": "Last updated",
        },
        label="Sort by",
    )

    class Meta:
        model = RegisteredModel
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        # Active models are what people look for; archived ones only when asked for.
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("status"):
            data["status"] = "active"
        super().__init__(data, *args, request=request, **kwargs)
        user = getattr(request, "user", None)
        visible = RegisteredModel.objects.visible_to(user) if user else RegisteredModel.objects
        # Only tags of models this user can see, so restricted models' tags do not leak.
        self.filters["tag"].queryset = Tag.objects.filter(
            Exists(visible.filter(tags=OuterRef("pk")))
        ).order_by("name")

    def filter_text(self, queryset, name, value):
        tagged = RegisteredModel.tags.through.objects.filter(
            registeredmodel_id=OuterRef("pk"), tag__name__icontains=value
        )
        # Exists rather than a join keeps one row per model without DISTINCT.
        return queryset.filter(
            Q(name__icontains=value)
            | Q(display_name__icontains=value)
            | Q(description__icontains=value)
            | Exists(tagged)
        )

    def filter_framework(self, queryset, name, value):
        return queryset.filter(
            Exists(ModelVersion.objects.filter(model_id=OuterRef("pk"), framework=value))
        )

    def filter_status(self, queryset, name, value):
        if value == "active":
            return queryset.filter(archived_at__isnull=True)
        if value == "archived":
            return queryset.filter(archived_at__isnull=False)
        return queryset

    def filter_tag(self, queryset, name, value):
        tagged = RegisteredModel.tags.through.objects.filter(
            registeredmodel_id=OuterRef("pk"), tag_id=value.pk
        )
        return queryset.filter(Exists(tagged))


# --- audit ledger -----------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise ValidationError("The 'from' date is after the 'to' date.")
        return cleaned


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _start_of(day) -> datetime:
    # Midnight in the site's time zone, so a date range means what the reader's calendar says.
    return timezone.make_aware(datetime.combine(day, time.min))


class AuditEventFilter(django_filters.FilterSet):
    """The ledger's filters: /audit/?actor=&action=&model=&version=&q=&date_from=&date_to="""

    actor = django_filters.CharFilter(
        field_name="actor_username",
        lookup_expr="exact",
        label="Actor",
        widget=forms.TextInput(
            attrs={"list": "audit-actors", "placeholder": "Username", "autocomplete": "off"}
        ),
    )
    # Text matched as a prefix, so "models_app.version" selects every version action; the
    # widget offers the codes in the ledger, grouped by object, with one "all" entry per group.
    action = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", label="Action", widget=forms.Select
    )
    model = django_filters.CharFilter(
        field_name="model_name",
        lookup_expr="exact",
        label="Model",
        widget=forms.TextInput(attrs={"placeholder": "Model name", "autocomplete": "off"}),
    )
    version = WholeNumberFilter(
        field_name="version_number",
        lookup_expr="exact",
        label="Version",
        min_value=1,
        widget=forms.NumberInput(attrs={"placeholder": "any", "min": 1}),
    )
    q = django_filters.CharFilter(
        field_name="object_repr",
        lookup_expr="icontains",
        label="Object contains",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "e.g. champion"}),
    )
    date_from = django_filters.DateFilter(
        field_name="created_at",
        method="filter_date_from",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = django_filters.DateFilter(
        field_name="created_at",
        method="filter_date_to",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    class Meta:
        model = AuditEvent
        fields = []
        form = AuditFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A callable keeps the query lazy: it runs only when the form is rendered, not for
        # htmx refreshes of the results or CSV exports.
        self.form.fields["action"].widget.choices = self._action_choices
        self._action_choices_cache: list | None = None

    def _action_choices(self) -> list:
        # The widget asks more than once per render (the required-attribute check iterates too).
        if self._action_choices_cache is None:
            self._action_choices_cache = self._build_action_choices()
        return self._action_choices_cache

    def _build_action_choices(self) -> list:
        codes = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
        groups: dict[str, list[str]] = {}
        for code in codes:
            groups.setdefault(code.rpartition(".")[0], []).append(code)
        choices: list = [("", "Any action")]
        current = (self.form.data.get("action") or "").strip()
        offered = set()
        for prefix, members in groups.items():
            noun = audit_action_label(f"{prefix}.events").removesuffix(" events")
            options = [(prefix, f"All {noun.lower()} events")]
            options += [(code, audit_action_label(code)) for code in members]
            offered.update(value for value, _ in options)
            choices.append((noun, options))
        if current and current not in offered:
            choices.insert(1, (current, f"Starts with “{current}”"))
        return choices

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_date_to(self, queryset, name, value):
        # Inclusive: everything before the start of the following day.
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))


class DeploymentBoardFilter(django_filters.FilterSet):
    """The deployment board's filters over models: /deployments/?team=&q="""

    q = django_filters.CharFilter(
        field_name="name",
        method="filter_text",
        label="Model",
        widget=forms.SearchInput(attrs={"placeholder": "Model name", "autocomplete": "off"}),
    )
    team = django_filters.ModelChoiceFilter(
        field_name="team",
        to_field_name="slug",
        queryset=Team.objects.order_by("name"),
        empty_label="All teams",
        label="Team",
    )

    class Meta:
        model = RegisteredModel
        fields = []

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(display_name__icontains=value))


class ApplicationFilter(django_filters.FilterSet):
    """The applications list's filters: /applications/?team=&q="""

    q = django_filters.CharFilter(
        field_name="name",
        method="filter_text",
        label="Search",
        widget=forms.SearchInput(
            attrs={"placeholder": "Name, contact or description", "autocomplete": "off"}
        ),
    )
    team = django_filters.ModelChoiceFilter(
        field_name="owner_team",
        to_field_name="slug",
        queryset=Team.objects.order_by("name"),
        empty_label="All teams",
        label="Owner team",
    )

    class Meta:
        model = Application
        fields = []

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(slug__icontains=value)
            | Q(contact__icontains=value)
            | Q(description__icontains=value)
        )
