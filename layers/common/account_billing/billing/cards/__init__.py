"""Cards (DESIGN §6): the card and its fingerprint marker as stored (`records`, `store`), adding a
card with its hold, the default card, removal and 3-D Secure outcomes (`service`), and what callers
see (`views`, `models`)."""
