"""Apptainer-style log lines on stderr (`INFO:    ...`), filtered by the chosen verbosity."""

import sys

QUIET, NORMAL, VERBOSE, DEBUG = 0, 1, 2, 3

_LABELS = {"FATAL": 0, "ERROR": 0, "WARNING": 0, "INFO": NORMAL, "VERBOSE": VERBOSE,
           "DEBUG": DEBUG}

level = NORMAL


def set_level(new_level: int) -> None:
    """Choose how much is printed: QUIET keeps only warnings and errors."""
    global level
    level = new_level


def _emit(label: str, message: str) -> None:
    if _LABELS[label] <= level:
        sys.stderr.write(f"{label + ':':<8} {message}\n")
        sys.stderr.flush()


def fatal(message: str) -> None:
    _emit("FATAL", message)


def error(message: str) -> None:
    _emit("ERROR", message)


def warning(message: str) -> None:
    _emit("WARNING", message)


def info(message: str) -> None:
    _emit("INFO", message)


def verbose(message: str) -> None:
    _emit("VERBOSE", message)


def debug(message: str) -> None:
    _emit("DEBUG", message)
