"""Radars: the geometry of their measurements (and, later, their simulation)."""
