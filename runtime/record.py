"""Records: classes of named fields with defaults, declared like dataclasses.

The launch path uses these instead of dataclasses because importing dataclasses (which pulls
in inspect, ast, dis and tokenize) costs more than a quarter of a container's start-up.
"""

class Record:
    """A class whose annotated class attributes are its fields, their values the defaults.

    Keyword arguments set fields; a list or dict default is copied for each record, so
    records never share one. Records compare equal when all their fields do.
    """

    def __init__(self, **values: object) -> None:
        fields = self.field_names()
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(unknown)}")
        for name in fields:
            value = values[name] if name in values else getattr(type(self), name)
            if name not in values and isinstance(value, (list, dict)):
                value = value.copy()
            setattr(self, name, value)

    @classmethod
    def field_names(cls) -> list[str]:
        """The fields in declaration order, inherited ones first."""
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("__annotations__", {}):
                if name not in names:
                    names.append(name)
        return names

    def as_dict(self) -> dict[str, object]:
        """The fields and their values (lists and dicts copied), for JSON."""
        return {name: _copied(getattr(self, name)) for name in self.field_names()}

    def replace(self, **changes: object) -> "Record":
        """A new record with the same fields, except the changed ones."""
        values = {name: getattr(self, name) for name in self.field_names()}
        return type(self)(**{**values, **changes})

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.field_names())

    __hash__ = None  # mutable, as a dataclass without frozen=True

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.field_names())
        return f"{type(self).__name__}({fields})"


def _copied(value: object) -> object:
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    return value
