"""Allows `python -m jupytainer`, the same as the `jupytainer` command."""

import sys

from jupytainer.runtime.cli import main

sys.exit(main())
