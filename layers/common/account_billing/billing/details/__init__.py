"""Billing details (issue 16): the name, company, postal address, tax IDs and billing email that
invoices and statements show, kept on the Stripe customer (the source of truth for invoices) and
mirrored on the account for reading (`records`, `store`, `service`; formats in `tax_ids`)."""
