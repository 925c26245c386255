"""The JupyterLab sidebar's server side: REST handlers for images, binds, instances, builds."""
