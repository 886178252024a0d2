"""Deleting an account (DESIGN §8): the erasure protocol (`protocol`) and the ordered steps of
every feature that keeps data of an account (`steps`)."""
