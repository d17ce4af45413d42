# The config of docs/methods.md's walkthrough: the CPU demo baseline (one
# hop) trained in the onelabel regime, plus ExamplePrior, imported from its
# own file by custom_imports (the file's folder must be on PYTHONPATH:
#     PYTHONPATH=$PWD:$PWD/tests/test_methods python tools/train.py \
#         tests/test_methods/example_prior_config.py
# ).
_base_ = ['../../configs/baseline/mtl_segnet-w16_1xb8-600it_procedural-full-96x128.py']
custom_imports = dict(imports=['example_prior'],
                      allow_failed_imports=False)
train_dataloader = dict(dataset=dict(
    label_regime=dict(type='onelabel', seed=0)))
model = dict(
    balancer=dict(type='UncertaintyWeighting'),
    methods=[dict(type='ExamplePrior', task='depth', bank_size=16,
                  num_pixels=64, loss_weight=0.1)])
