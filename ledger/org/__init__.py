"""The organisation: administrative regions, staff, their sign-in and web sessions, and four
eyes on administration (admin_requests)."""
