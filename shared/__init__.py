"""The project's common kit: event store wiring, the public event contract, delivery (relay and
follower), typed errors, identity, the clock and reference data. Every service builds on it."""
