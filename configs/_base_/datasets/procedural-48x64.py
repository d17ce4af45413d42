# The embedded procedural indoor dataset at 48x64, the procedural benchmark's
# size: the small preset's scenes (400 training + 100 test, generator seed 0)
# rendered at a quarter of its pixels. Generate it with:
#     python tools/generate_procedural_dataset.py data/procedural-48x64 \
#         --preset small --height 48 --width 64
_base_ = ['./procedural-96x128.py']
data_root = 'data/procedural-48x64'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
