"""The scoring service's handlers, one module per part of the work."""
