from django.apps import AppConfig


class ApprovalsAppConfig(AppConfig):
    name = "approvals_app"
    verbose_name = "Approvals"

    def ready(self):
        from approvals_app.thresholds import gate_thresholds
        from models_app.extensions import register_metric_threshold_provider

        # The catalogue's metric trend charts draw these gates without importing this app.
        register_metric_threshold_provider(gate_thresholds)
