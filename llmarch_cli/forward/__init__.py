"""Runnable models assembled from a spec and the kernels; Hugging Face weight loading."""
