"""Everything that speaks to Stripe, in the service's own terms.

`client` builds the StripeClient (pinned API version, bounded retries, the secret key from SSM,
the API base and HTTP client it is reached through); `api` runs each request with the retries on
429 and `errors` translates Stripe's errors; `customers`, `cards`, `holds`, `subscriptions` and
`invoices` are the jobs asked of Stripe, returning the typed results of `results`; `gateway`
puts them together and `deferred` builds it at the first Stripe call; `webhooks` verifies a
delivery's signature; `ratelimit` keeps a container's background work under its rate, and
`budget` takes card flows' requests from the interactive share of Stripe's limit, counted across
every container.

Only this package imports stripe, and nothing imports it at package import: functions that never
call Stripe never pay for it (DESIGN §10).
"""
