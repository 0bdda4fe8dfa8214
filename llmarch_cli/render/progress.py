"""Progress bars on stderr (only when stderr is a terminal)."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def weights_progress():
    """A callback (bytes done, total bytes) drawing a transient bar on stderr while weights
    load, or None when stderr is not a terminal."""
    import sys

    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from llmarch_cli.render.console import make_console

    columns = (TextColumn("loading weights"), BarColumn(), DownloadColumn(binary_units=True),
               TimeRemainingColumn())
    with Progress(*columns, console=make_console(stderr=True), transient=True) as bar:
        task = bar.add_task("weights", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
