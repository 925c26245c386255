"""The namespace launcher: runs a command inside an image the way Apptainer does."""
