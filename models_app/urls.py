from django.urls import path

from models_app.views import applications, audit, catalogue, compare, lifecycle, tokens, versions

app_name = "models_app"

urlpatterns = [
    path("models/", catalogue.model_list, name="model_list"),
    path("models/new/", catalogue.model_create, name="model_create"),
    path("models/<str:name>/", catalogue.model_detail, name="model_detail"),
    path("models/<str:name>/edit/", catalogue.model_edit, name="model_edit"),
    path("models/<str:name>/archive/", catalogue.model_archive, name="model_archive"),
    path("models/<str:name>/restore/", catalogue.model_restore, name="model_restore"),
    path("models/<str:name>/aliases/", catalogue.alias_set, name="alias_set"),
    path(
        "models/<str:name>/aliases/<str:alias>/delete/",
        catalogue.alias_delete,
        name="alias_delete",
    ),
    path("models/<str:name>/versions/new/", versions.version_create, name="version_create"),
    path(
        "models/<str:name>/versions/<int:number>/",
        versions.version_detail,
        name="version_detail",
    ),
    path(
        "models/<str:name>/versions/<int:number>/edit/",
        versions.version_edit,
        name="version_edit",
    ),
    path(
        "models/<str:name>/versions/<int:number>/metrics/",
        versions.metrics_log,
        name="metrics_log",
    ),
    path(
        "models/<str:name>/versions/<int:number>/upload/",
        versions.artifact_upload,
        name="artifact_upload",
    ),
    path(
        "models/<str:name>/versions/<int:number>/artifacts/<path:path>",
        versions.artifact_download,
        name="artifact_download",
    ),
    path("models/<str:name>/trends/", compare.model_trends, name="model_trends"),
    path("compare/", compare.compare, name="compare"),
    path("compare/chart/", compare.compare_chart, name="compare_chart"),
    path("audit/", audit.audit_list, name="audit_list"),
    # Deprecation and retirement (views/lifecycle.py)
    path(
        "models/<str:name>/versions/<int:number>/deprecate/",
        lifecycle.version_deprecate,
        name="version_deprecate",
    ),
    path(
        "models/<str:name>/versions/<int:number>/retire/",
        lifecycle.version_retire,
        name="version_retire",
    ),
    # Personal access tokens for the API and the CLI (views/tokens.py)
    path("account/tokens/", tokens.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    # Applications and their dependencies (views/applications.py)
    path("applications/", applications.application_list, name="application_list"),
    path("applications/new/", applications.application_create, name="application_create"),
    path("applications/<slug:slug>/", applications.application_detail, name="application_detail"),
    path("applications/<slug:slug>/edit/", applications.application_edit, name="application_edit"),
    path(
        "applications/<slug:slug>/dependencies/new/",
        applications.dependency_add,
        name="dependency_add",
    ),
    path(
        "applications/<slug:slug>/dependencies/<int:pk>/remove/",
        applications.dependency_remove,
        name="dependency_remove",
    ),
]
