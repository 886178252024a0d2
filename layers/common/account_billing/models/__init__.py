"""Pydantic models of the API: requests (what callers send) apart from responses (what they see)."""
