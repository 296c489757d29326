"""Code location entry point (``[tool.dagster] module_name``): ``dagster dev`` needs no flags.

The config is ``$TOKENREVIEW_CONFIG``, else ``./tokenreview.yaml``, else the bundled sample.
"""

import dagster as dg

from tokenreview_pipeline.config import default_config_path, load_config
from tokenreview_pipeline.defs import build_defs


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs(load_config(default_config_path()))
