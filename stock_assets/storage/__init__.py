"""Storage: an atomic object store (S3 or a local folder) and the IO manager that uses it."""
