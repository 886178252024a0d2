"""Billing: plans (`plans`), configuration (`settings`), the context every billing service is
handed (`context`), money-moving requests run once per Idempotency-Key (`idempotency`), the
account's Stripe customer (`customers`, `store`), billing's share of account deletion (`erasure`),
and one package per part: `cards`, `holds`, `subscriptions`, `invoices`, `webhooks`, and `stripe`
(the only one that imports stripe, never at package import: functions without Stripe, profile
deletion included, never pay for it)."""
