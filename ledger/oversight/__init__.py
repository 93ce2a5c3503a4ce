"""Oversight by the public and by inspectors: complaints and field-check samples."""
