"""Textual screens of the workstation (the TUI arrives with its own issue)."""
