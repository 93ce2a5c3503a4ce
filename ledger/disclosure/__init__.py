"""Public disclosure (公告公示): notices published into the audit log and what they print."""
