"""The store: the single source of truth for jobs, prompt records and users."""
