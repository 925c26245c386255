"""Apptainer definition files: parsing and `{{ NAME }}` templating.

`load_definition` is what a build calls; `parse_definition` and `render_definition` work on
text. Every mistake in a file raises DefinitionError naming the file, the line and the fix.
"""

from jupytainer.runtime.deffile.errors import DefinitionError
from jupytainer.runtime.deffile.loader import load_definition
from jupytainer.runtime.deffile.model import App, Definition, FilesGroup, Section, Stage
from jupytainer.runtime.deffile.parser import parse_definition
from jupytainer.runtime.deffile.templating import parse_build_args, render_definition

__all__ = [
    "App", "Definition", "DefinitionError", "FilesGroup", "Section", "Stage",
    "load_definition", "parse_build_args", "parse_definition", "render_definition",
]
