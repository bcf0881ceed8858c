"""Shared machinery: HTTP client, errors, settings, URL rules, pacing, and the base provider."""
