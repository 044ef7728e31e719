"""Storage: table exports and the hash-chained audit log; history later."""
