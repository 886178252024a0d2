"""Benchmarks of the service's budgets (DESIGN §10). They print measurements side by side in
one run; nothing here asserts a timing."""
