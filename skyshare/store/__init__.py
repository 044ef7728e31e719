"""Storage: exports now; history and the audit log later."""
