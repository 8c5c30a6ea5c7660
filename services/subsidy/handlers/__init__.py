"""The subsidy service's handlers, one module per part of the work."""
