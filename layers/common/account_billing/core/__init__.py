"""What every feature builds on: HTTP glue (`api`, `problems`, `http`, `identity`), the error
base (`errors`), configuration and per-container wiring (`settings`, `wiring`), time (`clock`),
DynamoDB (`table`, `keys`), windowed rate limits (`ratelimit_windows`, `ratelimit_store`),
cursors (`pagination`), text rules (`text`, `fields`), pydantic defaults (`models`), logging and
metrics (`observability`) and EventBridge (`events`)."""
