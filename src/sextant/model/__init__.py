"""The semantic model as code: frozen types, YAML loading and validation."""
