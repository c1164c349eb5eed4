"""Options shared by the CLI's commands: scenario overrides from --set, --duration, --step, --start.

Light on purpose (no numerical imports): ``leonet --help`` loads it.
"""

from __future__ import annotations

from .errors import InputError


def parse_sets(sets: list[str]) -> dict:
    """``FIELD=VALUE`` items -> {field path: value}, each value read as YAML with the limits and
    checks of a scenario file (:func:`~leonet.scenario.yamlfile.parse_scenario_yaml`: nesting,
    size, keys given twice), so that a value the file would refuse is refused here too."""
    from .scenario.yamlfile import parse_scenario_yaml

    out = {}
    for item in sets:
        if "=" not in item:
            raise InputError(f"--set expects FIELD=VALUE (e.g. time.step_s=0.5), got {item!r}")
        key, value = item.split("=", 1)
        source = f"--set {key.strip()}"
        if not value.strip():
            out[key.strip()] = None   # as YAML reads an empty value
            continue
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError("the value is not UTF-8 text", source=source) from None
        out[key.strip()], _ = parse_scenario_yaml(raw, source)
    return out


def _option(path: str, option: str):
    """``path`` as an override key that remembers the option that set it (errors name it)."""
    from .scenario.overrides import OptionPath

    return OptionPath(path, option)


def overrides(duration: float | None, step: float | None, start: str | None, sets: list[str]) -> dict:
    out = parse_sets(sets)
    for path, option, value in (("time.duration_s", "--duration", duration), ("time.step_s", "--step", step),
                                ("time.start", "--start", start)):
        if value is not None:
            out.pop(path, None)   # the option wins over a --set of the same field, and names itself
            out[_option(path, option)] = value
    return out


def lazy_progress(*columns, **kwargs):
    """A ``rich.progress.Progress`` (same arguments) that appears with its first update, not when
    its ``with`` block opens: a command refused at its door prints its error alone, without an
    empty bar above it."""
    from rich.progress import Progress

    class LazyProgress(Progress):
        def __enter__(self):
            return self

        def update(self, *args, **kw):
            super().update(*args, **kw)   # first, so that the first frame drawn is this update's
            if not self.live.is_started:
                self.start()   # a no-op when disabled (--quiet)

        def __exit__(self, *exc):
            if self.live.is_started:   # stopping a bar never shown would still print a blank line
                self.stop()

    return LazyProgress(*columns, **kwargs)


#: The width of stdout's tables when it is no terminal (a file, a pipe) and COLUMNS is not set:
#: rich would lay them out for 80 columns and cut names and headers ("cell…", "avai…").
PIPED_WIDTH = 200


def wide_when_not_a_terminal(con):
    """Give the rich console ``con`` :data:`PIPED_WIDTH` columns when it writes to no terminal and
    COLUMNS is not set (``leonet run X > log``); otherwise the terminal's width, as rich finds it."""
    import os

    try:
        tty = con.file.isatty()
    except (AttributeError, ValueError, OSError):
        tty = False
    con.width = None if tty or os.environ.get("COLUMNS") else PIPED_WIDTH
    return con


def consoles():
    """(stdout console, as wide as :func:`wide_when_not_a_terminal` makes it; stderr console) for a
    command's tables and its messages."""
    from rich.console import Console

    return wide_when_not_a_terminal(Console()), Console(stderr=True)


def stage_bar(err_console, what: str, quiet: bool = False):
    """A progress bar on ``err_console`` for a long command, shown from its first update (a context
    manager yielding ``progress(stage, done, total)``)."""
    import contextlib

    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bar_of():
        with lazy_progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=err_console, disable=quiet, transient=False) as bar:
            task = bar.add_task(what, total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, description=f"{what}: {stage}")

            yield progress

    return bar_of()
