# The narrow Base MT-Net in the onelabel regime (our extension; seeded draw):
# the reference of the XTasC onelabel config next to it.
_base_ = ['./mtl_resnet18-w16-unet_1xb8-600it_procedural-full-96x128.py']
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
