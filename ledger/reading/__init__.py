"""Scoped reads for screens and reports: what an actor may see, and nothing more."""
