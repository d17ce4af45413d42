from .delta_mtl import PRIMARY_METRICS, DeltaMTL, delta_mtl  # noqa: F401
from .evaluator import MultiTaskEvaluator  # noqa: F401
from .metrics import *  # noqa: F401,F403
from .report import (format_comparison_table, format_metrics_table,  # noqa: F401
                     group_by_task, higher_is_better)  # noqa: F401
