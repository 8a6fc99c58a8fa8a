"""The REST API under /api/v1/: a thin DRF adapter over models_app.services."""
