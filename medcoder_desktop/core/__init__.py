"""The product's core: no Qt below this package (checked by import-linter in the test run)."""
