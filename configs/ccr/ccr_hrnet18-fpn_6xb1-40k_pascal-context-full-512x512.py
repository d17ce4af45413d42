# CCR on PASCAL-Context, fully labelled, 5 tasks (semantic, human parts,
# normals, saliency, edges), as the paper: HRNet-18 + FPN, Semantic-FPN
# decoders (128 channels at 1/4: 128x128). Edges and saliency are binary
# label maps, discrete sources (same / other label); normals a continuous
# source (top-k by angle). CTS picks one of the 4 other tasks per target.
_base_ = ['../baseline/mtl_hrnet18-fpn_6xb1-40k_pascal-context-full-512x512.py']
model = dict(methods=[dict(type='CCR', feat_channels=128)])
# lambda_ctr ramped up linearly over the first 5 epochs (4998 images / 6)
custom_hooks = [dict(type='LossRampUpHook', target='methods.ccr.loss_weight',
                     schedule='linear', begin=0, end=4165)]
