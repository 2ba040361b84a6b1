"""Read models: what callers may see, genealogy, metrics, keyset paging."""
