# XTasC's "Base ST-Net" for depth on Cityscapes: the encoder and one
# U-Net decoder, the Base MT-Net's schedule; the reference of Delta_m.
_base_ = ['./mtl_resnet34-unet_1xb8-93k_cityscapes-full-128x256.py']
stl_tasks = ('depth', )
model = dict(heads=dict(_delete_=True,
                        depth={{_base_.model.heads.depth}}),
             balancer=dict(_delete_=True, type='FixedWeights'))
train_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [dict(type='DepthMetric')]
test_evaluator = val_evaluator
