"""Approvals, reviews, promotion and rollback in the REST API under /api/v1/.

Lives here, not in models_app.api, because models_app never imports approvals_app.
"""
