from .metrics import *  # noqa: F401,F403
from .report import format_metrics_table, group_by_task  # noqa: F401
