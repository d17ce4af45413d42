# XTasC's "Base ST-Net" for sem_seg on NYUv2: the encoder and one U-Net
# decoder, the Base MT-Net's schedule; the reference of Delta_m.
_base_ = ['./mtl_resnet34-unet_1xb6-13k_nyuv2-full-288x384.py']
stl_tasks = ('sem_seg', )
model = dict(heads=dict(_delete_=True,
                        sem_seg={{_base_.model.heads.sem_seg}}),
             balancer=dict(_delete_=True, type='FixedWeights'))
train_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_dataloader = dict(dataset=dict(tasks=stl_tasks))
test_dataloader = dict(dataset=dict(tasks=stl_tasks))
val_evaluator = [dict(type='SemSegMetric', num_classes=13,
         class_names={{_base_.class_names}})]
test_evaluator = val_evaluator
