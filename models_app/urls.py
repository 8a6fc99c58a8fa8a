from django.urls import path

from models_app.views import audit, catalogue, versions

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
    path("audit/", audit.audit_list, name="audit_list"),
]
