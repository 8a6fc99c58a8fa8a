"""/api/v1/… (included from registry_site.urls under the namespace "api")."""

from django.urls import path, re_path

from models_app.api import views

urlpatterns = [
    path("me/", views.me, name="me"),
    path("deployments/", views.deployment_collection, name="deployment_collection"),
    path("models/", views.model_collection, name="model_collection"),
    path("models/<str:name>/", views.model_detail, name="model_detail"),
    path("models/<str:name>/archive/", views.model_archive, name="model_archive"),
    path("models/<str:name>/restore/", views.model_restore, name="model_restore"),
    path("models/<str:name>/aliases/", views.alias_collection, name="alias_collection"),
    path("models/<str:name>/aliases/<str:alias>/", views.alias_detail, name="alias_detail"),
    path("models/<str:name>/versions/", views.version_collection, name="version_collection"),
    path(
        "models/<str:name>/versions/<int:number>/",
        views.version_detail,
        name="version_detail",
    ),
    path(
        "models/<str:name>/versions/<int:number>/metrics/",
        views.metric_collection,
        name="metric_collection",
    ),
    path(
        "models/<str:name>/versions/<int:number>/artifacts/",
        views.artifact_collection,
        name="artifact_collection",
    ),
    path(
        "models/<str:name>/versions/<int:number>/artifacts/<path:path>",
        views.artifact_download,
        name="artifact_download",
    ),
]

# Kept apart so registry_site.urls can put it after every other app's /api/v1/ routes.
catch_all = [re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found")]
