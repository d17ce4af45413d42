from .data_sample import MultiTaskDataSample, stack_targets
from .fields import (FIELD_KINDS, FIELDS, FieldKind, FieldSpec, field_spec,
                     present_fields, register_field, task_field)
from .tasks import (TASK_NAMES, TASK_SPECS, TaskSpec, check_tasks,
                    classes_from_meta, task_spec)

__all__ = ['MultiTaskDataSample', 'stack_targets', 'TASK_NAMES', 'TASK_SPECS',
           'TaskSpec', 'check_tasks', 'task_spec', 'FIELD_KINDS', 'FIELDS',
           'FieldKind', 'FieldSpec', 'field_spec', 'present_fields',
           'register_field', 'task_field', 'classes_from_meta']
