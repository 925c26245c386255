"""`%labels` and `%applabels` bodies as Apptainer reads them: one `KEY VALUE` pair a line."""


def parse_labels(body: str) -> dict[str, str]:
    """Labels in file order (a repeated key keeps its last value).

    The key ends at the first space only: a tab does not separate, so `KEY<TAB>VALUE` is a
    key without a value, as Apptainer has it.
    """
    labels: dict[str, str] = {}
    for line in body.split("\n"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue

        key, _, value = line.partition(" ")
        labels[key.strip()] = value.strip()
    return labels
