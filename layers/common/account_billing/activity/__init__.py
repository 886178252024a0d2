"""The account's activity log (issue 17): every change a user, Stripe or a schedule makes to an
account, appended once, listed newest first, kept for a configured time (DynamoDB's TTL), erased
with the account (its entries live in the account's partition)."""
