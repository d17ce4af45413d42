from .data_sample import MultiTaskDataSample, stack_targets
from .tasks import TASK_NAMES, TASK_SPECS, TaskSpec, check_tasks, task_spec

__all__ = ['MultiTaskDataSample', 'stack_targets', 'TASK_NAMES', 'TASK_SPECS',
           'TaskSpec', 'check_tasks', 'task_spec']
