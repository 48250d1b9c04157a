"""Machinery shared by acrl-policies' algorithms."""
