#!/usr/bin/env python3
"""PyTorch side of `EffNet.MLNet.Benchmarks finetune-learning` and `finetune-speed` (Debian's python3-torch).

    /usr/bin/python3 benchmarks/finetune/torch_finetune.py learn START DATA SEED EPOCHS LR UNFREEZE BATCH THREADS [TRAINBN DROPPATH AUGMENTED]
    /usr/bin/python3 benchmarks/finetune/torch_finetune.py speed UNFREEZE RESOLUTION BATCH THREADS STEPS [TRAINBN]

learn: torchvision's efficientnet_b0 loads START (the state_dict the C# side wrote: the same seeded random start)
strictly and trains with the C# recipe: AdamW betas 0.9/0.999, eps 1e-8, weight decay 0.05 on convolution and linear
weights only; linear warm-up over the first epoch then cosine to zero, per step; label smoothing 0.1; the classifier's
dropout off (the C# graph has none); batch-norm of the trained layers in training mode when TRAINBN is 1, else
frozen; stochastic depth at DROPPATH (torchvision's per-block rule). Without AUGMENTED ("-") it trains on DATA's
train_pixels/train_labels (RGB 0..255, the C# decoder's pixels) in a seeded shuffle each epoch; with it, on
AUGMENTED/epoch-E.safetensors, the C# side's augmented batches of epoch E in the C# order. It prints one JSON line
with the held-out accuracy on DATA's heldout_pixels.
speed: images/s of full training steps on synthetic input, batch-norm frozen (or, TRAINBN 1, the trained layers'
batch-norm in training mode), after WARM_UP_STEPS untimed steps, and the peak resident memory.
"""
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures"))
from check_finetuned_state_dict import read_safetensors  # noqa: E402  (one reader for the test and the benchmark)

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
WEIGHT_DECAY, SMOOTHING, WARMUP_EPOCHS = 0.05, 0.1, 1


def trainable(model, unfreeze):
    """all, head, or top:K (the last K of the seven stages, the head convolution and the classifier), as the C# Unfreeze."""
    if unfreeze == "all":
        return list(model.parameters())
    keep = list(model.classifier.parameters())
    if unfreeze.startswith("top:"):
        k = int(unfreeze[4:])
        for index in range(8 - k, 9):
            keep += list(model.features[index].parameters())
    for p in model.parameters():
        p.requires_grad_(False)
    for p in keep:
        p.requires_grad_(True)
    return keep


def optimizer_for(params, lr):
    decay = [p for p in params if p.dim() > 1]
    rest = [p for p in params if p.dim() <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.999), eps=1e-8)


def train_mode(model, train_batchnorm, drop_path, params):
    """The C# graph's modes: batch-norm frozen (eval) or normalising by the batch, stochastic depth at the C# rate
    (torchvision's rule: rate * block / blocks), the classifier's dropout off (the C# graph has none)."""
    model.eval()
    if train_batchnorm:   # the trained layers' batch-norm only; frozen layers stay in evaluation mode (as in C#)
        trained = {id(p) for p in params}
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d) and id(m.weight) in trained:
                m.train()
    if drop_path > 0:
        depth = [m for m in model.modules() if isinstance(m, torchvision.ops.StochasticDepth)]
        # torchvision built them with 0.2 * block / blocks; rescale to the C# rate.
        for m in depth:
            m.p = m.p * drop_path / 0.2
            m.train()


def learn(start, data, seed, epochs, lr, unfreeze, batch, threads, train_batchnorm=False, drop_path=0.0, augmented="-"):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    tensors = read_safetensors(data)
    x, y = tensors["train_pixels"], tensors["train_labels"].long()
    hx, hy = tensors["heldout_pixels"], tensors["heldout_labels"].long()
    classes = int(y.max().item()) + 1
    model = torchvision.models.efficientnet_b0(weights=None, num_classes=classes)
    model.load_state_dict(read_safetensors(start), strict=True)
    params = trainable(model, unfreeze)
    train_mode(model, train_batchnorm, drop_path, params)
    optimizer = optimizer_for(params, lr)
    per_epoch = math.ceil(len(y) / batch)
    warmup, total = WARMUP_EPOCHS * per_epoch, epochs * per_epoch

    def schedule(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    generator = torch.Generator().manual_seed(seed)
    began = time.time()
    history = []
    for _ in range(epochs):
        if augmented == "-":
            order = torch.randperm(len(y), generator=generator)
            ex, ey = x, y
        else:   # the C# side's augmented batches of this epoch, in its order
            epoch_tensors = read_safetensors(os.path.join(augmented, "epoch-%d.safetensors" % len(history)))
            ex, ey = epoch_tensors["pixels"], epoch_tensors["labels"].long()
            order = torch.arange(len(ey))
        loss_sum = correct = 0.0
        for b in range(per_epoch):
            idx = order[b * batch:(b + 1) * batch]
            logits = model((ex[idx] / 255.0 - MEAN) / STD)
            loss = F.cross_entropy(logits, ey[idx], label_smoothing=SMOOTHING)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == ey[idx]).sum().item()
        history.append({"loss": loss_sum / len(y), "accuracy": correct / len(y)})
    seconds = time.time() - began
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model((hx[i:i + 64] / 255.0 - MEAN) / STD).argmax(1) for i in range(0, len(hy), 64)])
    print(json.dumps({"seed": seed, "heldout": (predicted == hy).float().mean().item(), "seconds": seconds,
                      "imagesPerSecond": epochs * len(y) / seconds, "history": history}))


WARM_UP_STEPS = 3   # as the C# side's FineTuneSpeedBenchmark.WarmUpSteps


def speed(unfreeze, resolution, batch, threads, steps, train_batchnorm=False):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = torchvision.models.efficientnet_b0(weights=None, num_classes=10)
    params = trainable(model, unfreeze)
    train_mode(model, train_batchnorm, 0.0, params)
    optimizer = optimizer_for(params, 1e-5)
    x = torch.rand(batch, 3, resolution, resolution) * 255
    y = torch.arange(batch) % 10

    def step():
        loss = F.cross_entropy(model((x / 255.0 - MEAN) / STD), y, label_smoothing=SMOOTHING)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(WARM_UP_STEPS):
        step()
    began = time.time()
    for _ in range(steps):
        step()
    rate = steps * batch / (time.time() - began)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"imagesPerSecond": rate, "peakBytes": peak, "torch": torch.__version__}))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "learn" and len(sys.argv) in (10, 13):
        a = sys.argv[2:]
        extra = (a[8] == "1", float(a[9]), a[10]) if len(a) == 11 else ()
        learn(a[0], a[1], int(a[2]), int(a[3]), float(a[4]), a[5], int(a[6]), int(a[7]), *extra)
    elif len(sys.argv) >= 2 and sys.argv[1] == "speed" and len(sys.argv) in (7, 8):
        a = sys.argv[2:]
        speed(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), len(a) == 6 and a[5] == "1")
    else:
        sys.exit(__doc__)
