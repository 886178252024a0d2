"""Stripe's webhook events, applied once each (`service`, `store`): subscriptions and invoices
copied from Stripe, 3-D Secure outcomes of holds (`payment_intents`), cards detached and
customers deleted at Stripe. The delivery's signature is checked in `billing.stripe.webhooks`."""
