"""The review service's handlers (services/review/definition.py lists them all)."""
