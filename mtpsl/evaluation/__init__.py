from .metrics import *  # noqa: F401,F403
from .report import (format_comparison_table, format_metrics_table,  # noqa: F401
                     group_by_task)  # noqa: F401
