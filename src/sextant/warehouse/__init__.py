"""Warehouses through Ibis: connections, introspection and fingerprints."""
