"""OCI registries, image layouts and archives as image sources."""
