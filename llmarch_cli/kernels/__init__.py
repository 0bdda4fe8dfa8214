"""Numpy building blocks of a transformer, one idea per function, shapes in comments."""
