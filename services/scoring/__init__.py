"""The scoring service: expert review, ranking, decision, public notice and announcement."""
