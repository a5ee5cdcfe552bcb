"""Modal dialogs of the workstation (one module each)."""
