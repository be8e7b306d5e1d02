"""YAML loading for labctl's own files (stations): the device model's strict reader.

One reader for the project (``labctl.physics.yamlfile``): YAML 1.2 numbers, duplicate keys
refused, syntax errors with line numbers. It lives in the device model because that leaf may
import nothing of labctl.
"""

from __future__ import annotations

from labctl.physics.yamlfile import load_yaml_mapping

__all__ = ["load_yaml_mapping"]
