"""The thin Typer layer: parse options, call analysis or forward, hand results to render."""
