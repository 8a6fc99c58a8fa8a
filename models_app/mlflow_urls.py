"""MLflow's Model Registry REST API, included at api/2.0/mlflow/ (see mlflow_api)."""

from django.urls import path, re_path

from models_app import mlflow_api as api

app_name = "mlflow"

urlpatterns = [
    path("registered-models/create", api.create_registered_model, name="create_model"),
    path("registered-models/get", api.get_registered_model, name="get_model"),
    path("registered-models/rename", api.rename_registered_model, name="rename_model"),
    path("registered-models/update", api.update_registered_model, name="update_model"),
    path("registered-models/delete", api.delete_registered_model, name="delete_model"),
    path("registered-models/search", api.search_registered_models, name="search_models"),
    path(
        "registered-models/get-latest-versions",
        api.get_latest_versions,
        name="get_latest_versions",
    ),
    path("registered-models/set-tag", api.set_registered_model_tag, name="set_model_tag"),
    path("registered-models/delete-tag", api.delete_registered_model_tag, name="delete_model_tag"),
    path("registered-models/alias", api.registered_model_alias, name="alias"),
    path("model-versions/create", api.create_model_version, name="create_version"),
    path("model-versions/get", api.get_model_version, name="get_version"),
    path("model-versions/update", api.update_model_version, name="update_version"),
    path("model-versions/delete", api.delete_model_version, name="delete_version"),
    path(
        "model-versions/transition-stage",
        api.transition_model_version_stage,
        name="transition_stage",
    ),
    path("model-versions/search", api.search_model_versions, name="search_versions"),
    path(
        "model-versions/get-download-uri",
        api.get_model_version_download_uri,
        name="get_download_uri",
    ),
    path("model-versions/set-tag", api.set_model_version_tag, name="set_version_tag"),
    path("model-versions/delete-tag", api.delete_model_version_tag, name="delete_version_tag"),
    re_path(r"^(?P<path>.*)$", api.unknown_endpoint, name="unknown"),
]
