"""One-Window Workstation (一窗通): services, settings, CLI and the app entry."""
