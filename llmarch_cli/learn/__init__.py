"""Explanations and the quiz."""
