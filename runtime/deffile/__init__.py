"""Apptainer definition files: parsing and {{ ARG }} templating."""
