"""Where every benchmark leaves its report: results/NAME.json and a Markdown table beside it."""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def save_report(name: str, report: dict, table: str) -> None:
    """Write the report as JSON and its table as Markdown, and show the table."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(table)
    print(table)
