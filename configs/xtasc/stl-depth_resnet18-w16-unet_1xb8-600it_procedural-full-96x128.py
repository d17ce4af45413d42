# The narrow Base ST-Net for depth: the encoder and one U-Net decoder of
# the narrow Base MT-Net, same data, schedule and seed.
_base_ = ['./mtl_resnet18-w16-unet_1xb8-600it_procedural-full-96x128.py']
stl_tasks = ('depth', )
model = dict(heads=dict(_delete_=True,
                        depth={{_base_.model.heads.depth}}),
             balancer=dict(_delete_=True, type='FixedWeights'))
train_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [dict(type='DepthMetric')]
test_evaluator = val_evaluator
