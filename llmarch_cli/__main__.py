"""The ``llmarch`` process (console script and ``python -m llmarch_cli``): one start-up setting,
then the command line."""

import gc


def run() -> None:
    """Run the command line. Start-up allocates a few hundred thousand objects (typer, pydantic,
    the spec and result classes) and almost none of them in reference cycles, so collecting the
    youngest generation every 700 allocations, Python's default, spends about 5% of a short
    command's CPU for nothing; every 100,000 still collects long runs' cycles."""
    gc.set_threshold(100_000, 50, 1000)
    from llmarch_cli.cli.app import main

    try:
        main()
    finally:  # exiting, nothing is left to collect: spare the final collection the whole heap
        gc.freeze()


if __name__ == "__main__":
    run()
