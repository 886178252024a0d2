"""Shared package of the Account & Billing service: domain logic, data access and HTTP glue."""
