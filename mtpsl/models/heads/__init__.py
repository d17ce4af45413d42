from .task_head import SegNetTaskHead, activate, task_out_channels

__all__ = ['SegNetTaskHead', 'activate', 'task_out_channels']
