"""Sync with upstream levels (hub, push, pull, USB bundles) — arrives with its own issue."""
