"""What an architecture is: the ArchSpec model, presets, and loaders for HF configs and spec files."""
