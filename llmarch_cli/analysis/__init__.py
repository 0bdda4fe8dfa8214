"""Pure-Python analysis of specs (counts, memory, FLOPs). Never imports numpy, rich or typer."""
