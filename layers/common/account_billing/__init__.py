"""Shared package of the Account & Billing service: a small `core` and one package per feature
(`accounts`, `emails`, `avatars`, `spending`, `billing`, `deletion`), each owning its models,
records, store, service and errors."""
