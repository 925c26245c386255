"""The builder: definition files and images to SIF files and sandboxes."""
