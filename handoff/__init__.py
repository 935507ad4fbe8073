"""Handing conversations to people: requests for a human expert (queue, routing and the
staff console follow)."""
