"""The SIF container format: read, create and edit SIF files (independent of the rest)."""
