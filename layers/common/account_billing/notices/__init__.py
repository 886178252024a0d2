"""Security notices (issue 17): an email to the account's primary address (and the old one where
it changes) when its User ID or primary email changes, an address or a card is added, a card is
removed, or its deletion is requested. The change publishes the notice (`publisher`) once it is
made; the notices function sends it (`service`), once per change, so a failure to send never
blocks or undoes the change."""
