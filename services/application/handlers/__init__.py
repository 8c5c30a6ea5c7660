"""The application service's handlers, one module per concern; each function takes the call's
Context and its validated arguments (services/application/definition.py lists them all)."""
