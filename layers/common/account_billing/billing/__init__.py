"""Billing: plans, cards and their pre-authorization holds, the release of holds, and billing's
share of account deletion. Only `gateway` imports stripe; nothing here imports it at package
import, so functions without Stripe (profile deletion included) never pay for it."""
