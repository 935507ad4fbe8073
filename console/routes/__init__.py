"""The console's JSON API (see console/openapi.yaml), one module per resource."""
