"""Frames to reports: Mode S/ADS-B decoding over columnar batches."""
