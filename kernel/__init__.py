"""Jupyter integration: the container kernel provisioner, kernelspecs, magics, publishing."""
