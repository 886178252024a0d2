"""Invoices (DESIGN §4): the copy of Stripe's invoices the webhook keeps (`records`, `store`), and
the billing history callers read from it (`service`)."""
