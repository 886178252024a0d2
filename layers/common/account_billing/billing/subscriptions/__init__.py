"""Plans and the account's subscription (DESIGN §5): the copy of Stripe's subscription kept in
the table (`records`, `store`), moving between plans (`service`), and what callers see (`views`)."""
