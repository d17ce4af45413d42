# XTasC's "Base MT-Net" on Cityscapes (semantic 7 + depth): lambda = 0, i.e.
# the shared ResNet-34, the two U-Net decoders and the release's uncertainty
# weights, no TTNet. Schedule of the paper: 250 epochs of batch 8 (2975 images:
# 93k iterations), Adam 1e-4 halved every 80 epochs (29,760 it). Depth target:
# the stored maps of the MTAN layout (the paper's Cityscapes depth errors,
# ~0.012, are of the size the MTPSL line reports on these maps; identical
# units are not checked: see the README); inverse depth with --cfg-options
# train_dataloader.dataset.depth_target=inverse_depth (and the same for
# val_dataloader / test_dataloader).
_base_ = [
    '../_base_/datasets/cityscapes-128x256.py',
    '../_base_/models/resnet34-unet_xtasc.py',
    '../_base_/schedules/adam-40k.py',
    '../_base_/default_runtime.py',
]
model = dict(heads=dict(sem_seg=dict(num_classes=7)))
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99)))
param_scheduler = [
    dict(type='StepLR', step_size=29760, gamma=0.5, by_epoch=False),
]
train_cfg = dict(max_iters=93000, val_interval=9300)
default_hooks = dict(checkpoint=dict(interval=9300))
