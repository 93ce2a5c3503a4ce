"""Registered households and members, their life after registration, and their micro-credit."""
