"""The system's services, one package each."""
