"""The organisation: administrative regions, staff and their sign-in."""
