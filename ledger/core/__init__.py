"""Pure values and rules, no database: money, ID numbers, working days, spending classification,
settings, personal-data encryption, errors."""
