"""Turning result models into tables, JSON, CSV/TSV and Markdown. Computes nothing."""
