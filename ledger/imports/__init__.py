"""Importing documents from other systems (formats: docs/formats.md)."""
