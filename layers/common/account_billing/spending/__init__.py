"""Spending against the plan's monthly limit (DESIGN §5): the month's spend, usage de-duplication
and limit-increase requests as stored (`records`, `store`), and the logic of the usage events and
the spending routes (`service`, `models`)."""
