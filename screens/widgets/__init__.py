"""Reusable widgets of the workstation screens."""
