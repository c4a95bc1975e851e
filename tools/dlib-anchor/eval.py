#!/usr/bin/env python3
"""dlib's own pipeline on an LFW-format pairs file: the anchor kakunin's `face eval` is compared
with (docs/face.md, "Accuracy"). Not part of the product or the tests.

    ./tools/dlib-anchor/setup          # once: a venv with dlib (built from PyPI's sdist, 5–10 min)
    /tmp/dlib-anchor/bin/python tools/dlib-anchor/eval.py ../shared/data/pairs.txt ../shared/data [--grey] [--cnn]

dlib's frontal face detector (HOG, or with --cnn its CNN detector, as face_recognition's
model="cnn"; the face nearest the image centre; the centre half of the image when none is found), its 5-point landmark model, and its ResNet on the 150×150 face chip (25 %
padding), as the face_recognition package does. Distance is Euclidean between descriptors
(dlib's metric). Accuracy is 10-fold in the sense of `kakunin face eval`: for each fold the
threshold that is best on the other folds.
"""
import sys, os, json
import numpy as np
import dlib
import face_recognition_models as frm
from PIL import Image

pairs_path, root = sys.argv[1], sys.argv[2]
grey = "--grey" in sys.argv
cnn = "--cnn" in sys.argv
lfw = os.path.join(root, "lfw") if os.path.isdir(os.path.join(root, "lfw")) else root

if cnn:
    mmod = dlib.cnn_face_detection_model_v1(frm.cnn_face_detector_model_location())
    # LFW's faces are ~100 px, above the CNN's 80 px minimum: no upsampling unless none is found.
    def detector(a, _):
        return [d.rect for d in (mmod(a, 0) or mmod(a, 1))]
else:
    detector = dlib.get_frontal_face_detector()
shapes = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

lines = open(pairs_path).read().splitlines()
folds, per = map(int, lines[0].split())
pairs = []
for i, l in enumerate(lines[1:]):
    f = l.split("\t")
    if len(f) == 3:
        a, b, same = (f[0], int(f[1])), (f[0], int(f[2])), True
    else:
        a, b, same = (f[0], int(f[1])), (f[2], int(f[3])), False
    pairs.append((i // (2 * per), a, b, same))

cache, missed, undetected = {}, 0, set()
def descriptor(who):
    global missed
    if who in cache:
        return cache[who]
    path = os.path.join(lfw, who[0], f"{who[0]}_{who[1]:04d}.jpg")
    img = Image.open(path).convert("RGB")
    if grey:
        img = img.convert("L").convert("RGB")
    a = np.asarray(img)
    h, w = a.shape[:2]
    dets = detector(a, 1)
    if len(dets) == 0:
        missed += 1
        undetected.add(who)
        box = dlib.rectangle(w // 4, h // 4, 3 * w // 4, 3 * h // 4)
    else:
        box = min(dets, key=lambda r: (r.center().x - w / 2) ** 2 + (r.center().y - h / 2) ** 2)
    d = np.array(net.compute_face_descriptor(a, shapes(a, box)))
    cache[who] = d
    return d

scores = [(fold, -float(np.linalg.norm(descriptor(a) - descriptor(b))), same) for fold, a, b, same in pairs]

def best_threshold(s):
    cands = sorted(set(x for x, _ in s))
    best, bt = -1, 0
    for t in cands:
        acc = sum((x >= t) == y for x, y in s)
        if acc > best:
            best, bt = acc, t
    return bt

def accuracy(scores):
    accs = []
    for k in range(folds):
        train = [(x, y) for f, x, y in scores if f != k]
        test = [(x, y) for f, x, y in scores if f == k]
        t = best_threshold(train)
        accs.append(sum((x >= t) == y for x, y in test) / len(test))
    return float(np.mean(accs)), float(np.std(accs))

acc, std = accuracy(scores)
detected = [s for s, (_, a, b, _) in zip(scores, pairs) if a not in undetected and b not in undetected]
print(json.dumps({"pairs": len(pairs), "folds": folds, "accuracy": acc, "accuracy_std": std,
                  "grey": grey, "detector": "cnn" if cnn else "hog",
                  "images_without_detection": missed,
                  "pairs_both_detected": len(detected),
                  "accuracy_both_detected": accuracy(detected)[0]}))
