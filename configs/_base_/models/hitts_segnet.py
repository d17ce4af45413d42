# HiTTs (Zhang et al., re-implemented from the paper) on the MTPSL SegNet:
# the baseline's backbone and per-task 3x3 decoders, binned depth and normal
# heads (supplement A.1), and the HiTTs joint decoding stage between the
# decoders and the classifiers (its refined logits G_i' replace the heads'
# 1x1 classifiers). Widths and attention sizes keep Table 8's budget at
# 288x384 (configs/hitts/README.md: +0.26 M parameters, +14.4 GFLOPs).
segnet_widths = (64, 128, 256, 512, 512)
# Depth: 30 log-spaced bins (NYUv2); limits are ours (the paper gives none).
depth_bins = dict(type='LogDepthBins', num_bins=30, min_depth=0.5,
                  max_depth=10.0)
# Normals: 20 centres. The paper uses k-means centres of the labelled
# training pixels (tools/compute_normal_centres.py writes them; then add
# centres_file=...); without the file, 20 uniform unit vectors.
normal_bins = dict(type='NormalBins', num_bins=20)
# Eq. (13): lambda = 0.1 on the regression loss (L1 depth, angle normals),
# plus the cross-entropy to the GT's bin (the binned head's loss_bin_ce).
task_losses = dict(
    sem_seg=dict(type='CrossEntropyLoss', ignore_index=-1),
    depth=dict(type='MaskedL1Loss', loss_weight=0.1),
    normal=dict(type='MaskedAngleLoss', loss_weight=0.1))
model = dict(
    type='MultiTaskModel',
    data_preprocessor=dict(type='MultiTaskDataPreprocessor', size_divisor=32),
    backbone=dict(type='SegNet', widths=segnet_widths),
    heads=dict(
        sem_seg=dict(type='SegNetTaskHead', in_channels=segnet_widths[0],
                     num_classes=13, loss=task_losses['sem_seg']),
        depth=dict(type='SegNetTaskHead', in_channels=segnet_widths[0],
                   bins=depth_bins, loss=task_losses['depth']),
        normal=dict(type='SegNetTaskHead', in_channels=segnet_widths[0],
                    bins=normal_bins, loss=task_losses['normal']),
    ),
    joint_stage=dict(
        type='HiTTsJointStage', channels=segnet_widths[0],
        num_bins=dict(sem_seg=13, depth=30, normal=20),
        stride=4, attn_channels=38, heads=2, mlp_ratio=7.0),
    # Eq. (5): L_s = 1/T sum_i alpha_i L_i
    balancer=dict(type='FixedWeights',
                  weights=dict(sem_seg=1 / 3, depth=1 / 3, normal=1 / 3)))
# The heads' 1x1 classifiers are not used (the stage gives the logits).
find_unused_parameters = True
# tau_i of the label discovery (supplement B), NYUv2 one-label.
pseudo_tau = dict(sem_seg=0.9, depth=0.45, normal=0.6)
