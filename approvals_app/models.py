"""Governance: approval policies, requests and reviews (see the approval workflow issue)."""
