"""Commands: posting, reversals, closing, returns, receiving, staging, master data, rule sets."""
