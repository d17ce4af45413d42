from .task_losses import CosineSimilarityLoss, CrossEntropyLoss, MaskedL1Loss

__all__ = ['CosineSimilarityLoss', 'CrossEntropyLoss', 'MaskedL1Loss']
