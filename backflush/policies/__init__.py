"""The policies a posting obeys: built-in and rule-driven eligibility, blocking, deviations."""
