"""Alerts: detection rules over the picture, and the duty workflow around them."""
