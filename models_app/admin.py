"""The Django admin for ops staff.

Changes that have a service go through it, so the admin writes the same audit events as the
pages and the API. Reference data without a service (teams, tags, environments …) is saved
together with an audit event in one transaction by AuditedAdminMixin. Recorded facts
(metrics, artefacts, deployments, the audit ledger) are read-only here.
"""

import datetime
import json
import re
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from models_app import services
from models_app.models import (
    Alias,
    Application,
    Artifact,
    AuditEvent,
    Dataset,
    Dependency,
    Deployment,
    Environment,
    Membership,
    Metric,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
    Tag,
    Team,
    VersionDataset,
)
from models_app.services import RegistryError

admin.site.site_header = "Model registry administration"
admin.site.site_title = "Model registry admin"
admin.site.index_title = "Operations"

# Inlines show this many rows at most; a model can have thousands of versions and a version
# thousands of metric steps. The parent page links to the full, filtered list.
INLINE_MAX_ROWS = 50


# --- helpers ---------------------------------------------------------------------------------


def _json_safe(value):
    """A value as it should appear in an audit event's before/after."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, models.Manager):
        value = value.all()
    if isinstance(value, models.QuerySet | list | tuple | set | frozenset):
        return sorted(str(_json_safe(item)) for item in value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return str(value)


def _field_values(obj, names, cleaned_data=None) -> dict:
    values = {}
    for name in names:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            # Many-to-many rows are written after save_model, so take them from the form.
            if cleaned_data is not None and name in cleaned_data:
                value = cleaned_data[name]
            else:
                value = getattr(obj, name).all() if obj.pk else []
        else:
            value = getattr(obj, name)
        values[name] = _json_safe(value)
    return values


def _model_field_names(obj, names) -> list[str]:
    own = {f.name for f in obj._meta.concrete_fields} | {f.name for f in obj._meta.many_to_many}
    return [name for name in names if name in own]


def _all_field_names(obj, cleaned_data=None) -> list[str]:
    names = [f.name for f in obj._meta.concrete_fields if not f.primary_key]
    if cleaned_data is not None:
        names += [f.name for f in obj._meta.many_to_many if f.name in cleaned_data]
    return names


def _adopt(target, saved) -> None:
    """Turn the admin's unsaved instance into the row a service saved.

    The admin logs, messages and redirects with the instance it passed to save_model.
    """
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


def _pretty_json(data) -> str:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


def _changelist_link(model, label: str, **filters) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def _count_of(model, fk_name: str):
    """A correlated COUNT, so two counts on one list do not multiply each other's joins."""
    counts = (
        model.objects.filter(**{fk_name: OuterRef("pk")})
        .order_by()
        .values(fk_name)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def _only_visible(request, queryset, model_path: str):
    """Staff who are not superusers see a restricted model, and what hangs off it, only if
    they are in its team: the same rule as on every page."""
    if request.user.is_superuser:
        return queryset
    visible = RegisteredModel.objects.visible_to(request.user)
    return queryset.filter(**{f"{model_path}__in": visible})


def _apply_to_each(modeladmin, request, queryset, operation, done: str) -> None:
    """Run a service per selected object, reporting each refusal and the successes."""
    succeeded = []
    for obj in queryset:
        try:
            operation(obj)
        except RegistryError as refusal:
            modeladmin.message_user(request, refusal.message, messages.ERROR)
        else:
            succeeded.append(str(obj))
    if succeeded:
        modeladmin.message_user(request, f"{done}: {', '.join(succeeded)}.", messages.SUCCESS)


# --- audited reference data ------------------------------------------------------------------


class AuditedAdminMixin:
    """Save or delete reference data and its audit event in one transaction.

    For data that has no service of its own; the action is models_app.<thing>.<verb>.
    """

    def _audit_action(self, obj, verb: str) -> str:
        thing = re.sub(r"(?<!^)(?=[A-Z])", "_", obj._meta.object_name).lower()
        return f"models_app.{thing}.{verb}"

    def _save_audited(self, request, obj, changed_fields, cleaned_data=None) -> None:
        adding = obj._state.adding
        with transaction.atomic():
            if adding:
                fields = _all_field_names(obj, cleaned_data)
                before = None
            else:
                fields = _model_field_names(obj, changed_fields)
                stored = type(obj)._default_manager.get(pk=obj.pk)
                before = _field_values(stored, fields)
            obj.save()
            after = _field_values(obj, fields, cleaned_data)
            if adding or before != after:
                services.record_admin_change(
                    actor=request.user,
                    obj=obj,
                    action=self._audit_action(obj, "created" if adding else "updated"),
                    before=before,
                    after=after,
                )

    def _delete_audited(self, request, obj) -> None:
        with transaction.atomic():
            # Recorded first: the event names the row by its primary key, gone after delete.
            services.record_admin_change(
                actor=request.user,
                obj=obj,
                action=self._audit_action(obj, "deleted"),
                before=_field_values(obj, _all_field_names(obj)),
                after=None,
            )
            obj.delete()

    def save_model(self, request, obj, form, change):
        self._save_audited(request, obj, form.changed_data, form.cleaned_data)

    def delete_model(self, request, obj):
        self._delete_audited(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._delete_audited(request, obj)

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            formset.save(commit=False)
            for obj in formset.deleted_objects:
                self._delete_audited(request, obj)
            for obj, changed_fields in formset.changed_objects:
                self._save_audited(request, obj, changed_fields)
            for obj in formset.new_objects:
                self._save_audited(request, obj, ())
            formset.save_m2m()


# --- service-backed admins -------------------------------------------------------------------


class ServiceForm(forms.ModelForm):
    """An admin form whose save is done by a service; a refusal is shown as a form error."""

    refusal: RegistryError | None = None

    def clean(self):
        cleaned_data = super().clean()
        if self.refusal is not None:
            field = self.refusal.field if self.refusal.field in self.fields else None
            self.add_error(field, self.refusal.message)
        return cleaned_data


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose save_model/delete_model call services that may refuse.

    The services hold the rules (permission, archived, reserved names …); rather than repeat
    them in the form, a refusal rolls the request's transaction back and the form is shown
    again with the service's message as its error, the user's input intact.
    """

    form = ServiceForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # modelform_factory made a fresh class for this request, so this does not leak.
        form.refusal = getattr(request, "_registry_refusal", None)
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except RegistryError as refusal:
            if request.method != "POST" or hasattr(request, "_registry_refusal"):
                raise
            # The admin's atomic block around the first attempt has rolled back.
            request._registry_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except RegistryError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            opts = self.opts
            return HttpResponseRedirect(
                reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_change",
                    args=[object_id],
                    current_app=self.admin_site.name,
                )
            )


class _FirstRowsFormSet(forms.BaseInlineFormSet):
    max_rows = INLINE_MAX_ROWS

    def get_queryset(self):
        # Cached: the formset asks several times, and a sliced queryset re-runs each time.
        if not hasattr(self, "_first_rows"):
            self._first_rows = super().get_queryset()[: self.max_rows]
        return self._first_rows


class ReadOnlyInline(admin.TabularInline):
    """Recorded facts: listed, never added, changed or deleted through the admin."""

    extra = 0
    can_delete = False
    formset = _FirstRowsFormSet
    related = ()

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # select_related() with no names would follow every foreign key.
        return queryset.select_related(*self.related) if self.related else queryset

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- teams and tags --------------------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role"]
    autocomplete_fields = ["user"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "team")


@admin.register(Team)
class TeamAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "model_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=_count_of(Membership, "team"),
                model_count=_count_of(RegisteredModel, "team"),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="models", ordering="model_count")
    def model_count(self, obj):
        return obj.model_count


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__email", "team__name", "team__slug"]
    autocomplete_fields = ["user", "team"]
    list_select_related = ["user", "team"]


@admin.register(Tag)
class TagAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "model_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(model_count=Count("models"))

    @admin.display(description="models", ordering="model_count")
    def model_count(self, obj):
        return obj.model_count


# --- models, versions, aliases ---------------------------------------------------------------


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Active"), ("yes", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class ModelVersionInline(ReadOnlyInline):
    model = ModelVersion
    fields = ["version", "framework", "architecture", "created_by", "created_at"]
    ordering = ["-version"]
    related = ["model", "created_by"]
    show_change_link = True
    verbose_name_plural = f"versions (the latest {INLINE_MAX_ROWS} at most)"


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ServiceModelAdmin):
    list_display = [
        "name",
        "display_name",
        "team",
        "task",
        "risk_tier",
        "restricted",
        "latest_version",
        "updated_at",
        "is_archived",
    ]
    list_filter = ["team", "task", "risk_tier", "restricted", ArchivedFilter]
    search_fields = ["name", "display_name", "description", "tags__name"]
    list_select_related = ["team"]
    autocomplete_fields = ["team", "responsible", "tags"]
    date_hierarchy = "created_at"
    actions = ["archive_models", "restore_models"]
    record_fields = [
        "properties_json",
        "latest_version",
        "all_versions",
        "created_by",
        "created_at",
        "updated_at",
        "archived_at",
    ]

    def get_queryset(self, request):
        return _only_visible(request, super().get_queryset(request), "pk")

    def get_fieldsets(self, request, obj=None):
        main = [
            "name",
            "display_name",
            "team",
            "responsible",
            "task",
            "risk_tier",
            "restricted",
            "tags",
            "description",
        ]
        if obj is None:
            return [(None, {"fields": main})]
        return [(None, {"fields": main}), ("Record", {"fields": self.record_fields})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The services cannot rename a model or move it to another team.
        return ["name", "team", *self.record_fields]

    def get_inlines(self, request, obj):
        return [ModelVersionInline] if obj is not None else []

    # Set through the MLflow API's key/value tags, which audit them; read-only here.
    @admin.display(description="properties")
    def properties_json(self, obj):
        return _pretty_json(obj.properties)

    def has_delete_permission(self, request, obj=None):
        # Deleting a model would delete its versions, which are never deleted; archive it.
        return False

    @admin.display(boolean=True, description="archived", ordering="archived_at")
    def is_archived(self, obj):
        return obj.is_archived

    @admin.display(description="all versions")
    def all_versions(self, obj):
        return _changelist_link(ModelVersion, "List every version", model__id__exact=obj.pk)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        details = {field: data[field] for field in services.MODEL_EDITABLE_FIELDS if field in data}
        tag_names = [tag.name for tag in data.get("tags", [])]
        if not change:
            saved = services.create_model(
                actor=request.user, name=data["name"], team=data["team"], tags=tag_names, **details
            )
        else:
            changes = {field: details[field] for field in details if field in form.changed_data}
            tags = tag_names if "tags" in form.changed_data else None
            if not changes and tags is None:
                return
            saved = services.update_model(actor=request.user, model=obj, tags=tags, **changes)
        _adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # No form.save_m2m(): the service has set the tags and audited them.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Archive selected models", permissions=["change"])
    def archive_models(self, request, queryset):
        _apply_to_each(
            self,
            request,
            queryset,
            lambda model: services.archive_model(
                actor=request.user, model=model, reason="Archived in the admin."
            ),
            "Archived",
        )

    @admin.action(description="Restore selected models", permissions=["change"])
    def restore_models(self, request, queryset):
        _apply_to_each(
            self,
            request,
            queryset,
            lambda model: services.restore_model(actor=request.user, model=model),
            "Restored",
        )


class MetricInline(ReadOnlyInline):
    model = Metric
    fields = ["key", "value", "step", "slice", "recorded_at"]
    verbose_name_plural = f"metrics (the first {INLINE_MAX_ROWS} at most)"


class ArtifactInline(ReadOnlyInline):
    model = Artifact
    fields = ["path", "kind", "size", "sha256", "content_type", "created_at"]
    verbose_name_plural = f"artefacts (the first {INLINE_MAX_ROWS} at most)"


class VersionDatasetInline(ReadOnlyInline):
    # Datasets are lineage recorded at registration, not something to re-point afterwards.
    model = VersionDataset
    fields = ["dataset", "role"]
    related = ["dataset"]
    verbose_name = "dataset"
    verbose_name_plural = "datasets"


class LifecycleFilter(admin.SimpleListFilter):
    title = "lifecycle"
    parameter_name = "lifecycle"

    def lookups(self, request, model_admin):
        return [("current", "Current"), ("deprecated", "Deprecated"), ("retired", "Retired")]

    def queryset(self, request, queryset):
        if self.value() == "current":
            return queryset.filter(deprecated_at__isnull=True, retired_at__isnull=True)
        if self.value() == "deprecated":
            return queryset.filter(deprecated_at__isnull=False, retired_at__isnull=True)
        if self.value() == "retired":
            return queryset.filter(retired_at__isnull=False)
        return queryset


@admin.register(ModelVersion)
class ModelVersionAdmin(ServiceModelAdmin):
    list_display = [
        "__str__",
        "framework",
        "architecture",
        "created_by",
        "created_at",
        "lifecycle",
    ]
    list_filter = ["framework", "model__team", "model__risk_tier", LifecycleFilter]
    search_fields = ["model__name", "architecture", "source_uri", "external_base_model"]
    list_select_related = ["model", "created_by"]
    autocomplete_fields = ["tags"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [MetricInline, ArtifactInline, VersionDatasetInline]
    fieldsets = [
        (
            "Version",
            {
                "fields": [
                    "model",
                    "version",
                    "lifecycle",
                    "created_by",
                    "created_at",
                    "deprecated_at",
                    "retired_at",
                    "evidence_locked_at",
                    "all_metrics",
                ]
            },
        ),
        (
            "Lineage",
            {
                "fields": [
                    "parent",
                    "external_base_model",
                    "source_uri",
                    "framework",
                    "framework_version",
                    "architecture",
                    "hyperparameters_json",
                    "run_id",
                    "run_link",
                    "properties_json",
                ]
            },
        ),
        (
            "Model card",
            {
                "description": "Edited through the registry's service, which audits the change.",
                "fields": [*services.VERSION_CARD_FIELDS, "tags"],
            },
        ),
    ]
    readonly_fields = [
        "model",
        "version",
        "lifecycle",
        "created_by",
        "created_at",
        "deprecated_at",
        "retired_at",
        "evidence_locked_at",
        "all_metrics",
        "parent",
        "external_base_model",
        "source_uri",
        "framework",
        "framework_version",
        "architecture",
        "hyperparameters_json",
        "run_id",
        "run_link",
        "properties_json",
    ]

    def get_queryset(self, request):
        return _only_visible(request, super().get_queryset(request), "model")

    def has_add_permission(self, request):
        # Versions are registered through the pages, the API or the CLI, with their lineage.
        return False

    def has_delete_permission(self, request, obj=None):
        # Versions are never deleted, so their numbers are never reused.
        return False

    @admin.display(description="lifecycle")
    def lifecycle(self, obj):
        if obj.retired_at:
            return "retired"
        if obj.deprecated_at:
            return "deprecated"
        return "current"

    @admin.display(description="hyperparameters")
    def hyperparameters_json(self, obj):
        return _pretty_json(obj.hyperparameters)

    @admin.display(description="properties")
    def properties_json(self, obj):
        return _pretty_json(obj.properties)

    @admin.display(description="all metrics")
    def all_metrics(self, obj):
        return _changelist_link(Metric, "List every metric", version__id__exact=obj.pk)

    def save_model(self, request, obj, form, change):
        data, changed = form.cleaned_data, form.changed_data
        changes = {field: data[field] for field in services.VERSION_CARD_FIELDS if field in changed}
        tags = [tag.name for tag in data["tags"]] if "tags" in changed else None
        if changes or tags is not None:
            saved = services.update_version_card(
                actor=request.user, version=obj, tags=tags, **changes
            )
            _adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # No form.save_m2m(): the service has set the tags and audited them.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Alias)
class AliasAdmin(ServiceModelAdmin):
    list_display = ["name", "model", "version", "updated_by", "updated_at"]
    list_filter = ["name"]
    search_fields = ["name", "model__name"]
    list_select_related = ["model", "version__model", "updated_by"]
    autocomplete_fields = ["model", "version"]
    actions = ["delete_aliases"]

    def get_queryset(self, request):
        return _only_visible(request, super().get_queryset(request), "model")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["model", "name", "version"]
        return ["model", "name", "version", "updated_by", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # Moving is what the service does; renaming is delete-and-set.
        return ["model", "name", "updated_by", "updated_at"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Its confirmation counts deletions the service may still refuse; delete_aliases
        # reports each one.
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        saved = services.set_alias(
            actor=request.user, model=obj.model, name=obj.name, version=obj.version
        )
        _adopt(obj, saved)

    def delete_model(self, request, obj):
        services.delete_alias(actor=request.user, model=obj.model, name=obj.name)

    @admin.action(description="Delete selected aliases", permissions=["delete"])
    def delete_aliases(self, request, queryset):
        _apply_to_each(
            self,
            request,
            queryset,
            lambda alias: services.delete_alias(
                actor=request.user, model=alias.model, name=alias.name
            ),
            "Deleted",
        )


# --- metrics, artefacts, datasets ------------------------------------------------------------


@admin.register(Metric)
class MetricAdmin(ReadOnlyAdmin):
    list_display = ["key", "value", "step", "slice", "version", "recorded_at"]
    search_fields = ["key", "slice", "version__model__name"]
    list_select_related = ["version__model"]
    date_hierarchy = "recorded_at"
    show_full_result_count = False

    def get_queryset(self, request):
        return _only_visible(request, super().get_queryset(request), "version__model")


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ["path", "version", "kind", "file_size", "sha256", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["path", "=sha256", "version__model__name"]
    list_select_related = ["version__model", "created_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request):
        return _only_visible(request, super().get_queryset(request), "version__model")

    @admin.display(description="size", ordering="size")
    def file_size(self, obj):
        return filesizeformat(obj.size)


@admin.register(Dataset)
class DatasetAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "version", "uri", "digest", "created_at"]
    search_fields = ["name", "version", "uri", "=digest"]
    date_hierarchy = "created_at"


@admin.register(MetricDefinition)
class MetricDefinitionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["key", "display_name", "unit", "higher_is_better"]
    list_filter = ["higher_is_better"]
    search_fields = ["key", "display_name", "description"]


# --- environments, deployments, applications -------------------------------------------------


@admin.register(Environment)
class EnvironmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "display_name", "order", "requires_approval"]
    list_filter = ["requires_approval"]
    search_fields = ["name", "display_name"]
    filter_horizontal = ["promotion_sources"]


DEPLOYMENTS_READ_ONLY = (
    "Read-only: deployments are recorded by promotion and rollback, which check approvals "
    "and keep one full-traffic deployment per model and environment. The one change made "
    "here is the roll-back action, through that same service."
)


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = [
        "model",
        "version",
        "environment",
        "status",
        "traffic_percent",
        "target",
        "deployed_by",
        "deployed_at",
        "ended_at",
    ]
    list_filter = ["status", "environment", "model__team"]
    search_fields = ["model__name", "target", "environment__name", "notes"]
    list_select_related = ["model", "version__model", "environment", "deployed_by"]
    date_hierarchy = "deployed_at"
    fieldsets = [
        (
            None,
            {
                "description": DEPLOYMENTS_READ_ONLY,
                "fields": [
                    "model",
                    "version",
                    "environment",
                    "status",
                    "traffic_percent",
                    "target",
                    "notes",
                    "deployed_by",
                    "deployed_at",
                    "ended_at",
                ],
            },
        )
    ]

    def get_queryset(self, request):
        return _only_visible(request, super().get_queryset(request), "model")

    def changelist_view(self, request, extra_context=None):
        extra_context = {"subtitle": DEPLOYMENTS_READ_ONLY, **(extra_context or {})}
        return super().changelist_view(request, extra_context)


class DependencyInline(admin.TabularInline):
    model = Dependency
    fields = ["model", "environment", "alias_name", "pinned_version"]
    autocomplete_fields = ["model", "environment", "pinned_version"]
    extra = 0

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("application", "model", "environment", "pinned_version__model")
        )


@admin.register(Application)
class ApplicationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "owner_team", "contact", "dependency_count"]
    list_filter = ["owner_team"]
    search_fields = ["name", "slug", "contact", "owner_team__name"]
    list_select_related = ["owner_team"]
    autocomplete_fields = ["owner_team"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DependencyInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(dependency_count=Count("dependencies"))

    @admin.display(description="dependencies", ordering="dependency_count")
    def dependency_count(self, obj):
        return obj.dependency_count


@admin.register(Dependency)
class DependencyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["application", "model", "environment", "alias_name", "pinned_version"]
    list_filter = ["environment", "application__owner_team"]
    search_fields = ["application__name", "application__slug", "model__name", "alias_name"]
    list_select_related = ["application", "model", "environment", "pinned_version__model"]
    autocomplete_fields = ["application", "model", "environment", "pinned_version"]


# --- the audit ledger ------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The ledger is append-only: nobody, superusers included, changes or deletes it here."""

    list_display = [
        "sequence",
        "created_at",
        "actor_username",
        "action",
        "object_repr",
        "model_name",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_username", "action", "object_repr", "model_name", "=object_id"]
    date_hierarchy = "created_at"
    ordering = ["-sequence"]
    show_full_result_count = False
    actions = None
    fields = [
        "sequence",
        "created_at",
        "actor_username",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "model_name",
        "version_number",
        "changes_pretty",
        "previous_hash",
        "hash",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.display(description="changes")
    def changes_pretty(self, obj):
        try:
            data = json.loads(obj.changes)
        except ValueError:
            # Shown as stored: a row that is not JSON has been tampered with.
            return format_html("<pre>{}</pre>", obj.changes)
        return _pretty_json(data)


class AuditedUserAdmin(UserAdmin):
    """Django's user admin, with every change of an account written to the ledger.

    Only the account's identity, status and groups are recorded: never the password hash,
    only the fact that the password was set.
    """

    audited_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "is_active",
        "is_staff",
        "is_superuser",
    )

    def _snapshot(self, user) -> dict:
        return {field: getattr(user, field) for field in self.audited_fields}

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = self._snapshot(type(obj)._default_manager.get(pk=obj.pk)) if change else None
            super().save_model(request, obj, form, change)
            after = self._snapshot(obj)
            if {"password", "password1"} & set(form.changed_data):
                after["password_set"] = True
            if before != after:
                services.record_admin_change(
                    actor=request.user,
                    obj=obj,
                    action=f"models_app.user.{'updated' if change else 'created'}",
                    before=before,
                    after=after,
                )

    def save_related(self, request, form, formsets, change):
        user = form.instance
        with transaction.atomic():
            before = sorted(user.groups.values_list("name", flat=True))
            super().save_related(request, form, formsets, change)
            after = sorted(user.groups.values_list("name", flat=True))
            if before != after:
                services.record_admin_change(
                    actor=request.user,
                    obj=user,
                    action="models_app.user.groups_changed",
                    before={"groups": before},
                    after={"groups": after},
                )

    def _delete_audited(self, request, user):
        with transaction.atomic():
            services.record_admin_change(
                actor=request.user,
                obj=user,
                action="models_app.user.deleted",
                before={
                    **self._snapshot(user),
                    "memberships": [
                        f"{m.team.slug}:{m.role}" for m in user.memberships.select_related("team")
                    ],
                },
                after=None,
            )
            user.delete()

    def delete_model(self, request, obj):
        self._delete_audited(request, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self._delete_audited(request, user)

    def user_change_password(self, request, id, form_url=""):
        # The password form saves outside save_model; a redirect means it saved, and the
        # transaction makes the new password and its ledger entry commit together.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, id)
                services.record_admin_change(
                    actor=request.user,
                    obj=user,
                    action="models_app.user.password_set",
                    before=None,
                    after={"username": user.get_username(), "password_set": True},
                )
        return response


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), AuditedUserAdmin)
