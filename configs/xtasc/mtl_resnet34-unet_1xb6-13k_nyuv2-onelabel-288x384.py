# XTasC's Base MT-Net on NYUv2 (semantic 13 + depth), onelabel (our extension;
# a seeded draw): the reference of the XTasC config next to it.
_base_ = ['./mtl_resnet34-unet_1xb6-13k_nyuv2-full-288x384.py']
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
