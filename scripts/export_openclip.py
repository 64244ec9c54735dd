"""Exports an OpenCLIP model's image and text halves to ONNX for homegallery's `text:` search.

Run it in a Python environment of your own that has torch and open_clip_torch (they
are not homegallery's dependencies and homegallery never installs or downloads them):

    python -m venv ~/clip-export && ~/clip-export/bin/pip install torch open_clip_torch onnx
    ~/clip-export/bin/python scripts/export_openclip.py ViT-B-32 laion2b_s34b_b79k ~/clip

open_clip downloads the weights you name (in that environment, not homegallery).
The script writes image.onnx, text.onnx and the tokenizer's merges file into the
folder and prints the `extractor.models.clip` lines for the gallery's config.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import open_clip  # type: ignore[import-not-found]
import torch  # type: ignore[import-not-found]

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


class _Half(torch.nn.Module):  # type: ignore[misc]
    def __init__(self, encode: Any) -> None:
        super().__init__()
        self.encode = encode

    def forward(self, inputs: Any) -> Any:
        return self.encode(inputs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="an OpenCLIP model name, e.g. ViT-B-32")
    parser.add_argument("pretrained", help="its weights' tag, e.g. laion2b_s34b_b79k")
    parser.add_argument("folder", type=Path, help="where to write the files")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    model, _, _ = open_clip.create_model_and_transforms(args.model, pretrained=args.pretrained)
    model.eval()
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    context = int(getattr(model, "context_length", 77))
    mean = tuple(getattr(model.visual, "image_mean", None) or OPENAI_MEAN)
    std = tuple(getattr(model.visual, "image_std", None) or OPENAI_STD)
    image = torch.zeros(1, 3, size, size)
    text = open_clip.get_tokenizer(args.model)(["a photo"])
    with torch.no_grad():
        torch.onnx.export(
            _Half(model.encode_image), (image,), str(args.folder / "image.onnx"),
            input_names=["pixel_values"], output_names=["image_embeds"],
            dynamic_axes={"pixel_values": {0: "n"}, "image_embeds": {0: "n"}}, opset_version=17,
        )  # fmt: skip
        torch.onnx.export(
            _Half(model.encode_text), (text,), str(args.folder / "text.onnx"),
            input_names=["input_ids"], output_names=["text_embeds"],
            dynamic_axes={"input_ids": {0: "n"}, "text_embeds": {0: "n"}}, opset_version=17,
        )  # fmt: skip
    vocab = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    shutil.copyfile(vocab, args.folder / vocab.name)
    print("extractor:\n  models:\n    clip:")
    print(f"      image: {args.folder / 'image.onnx'}\n      text: {args.folder / 'text.onnx'}")
    print(f"      tokenizer: {args.folder / vocab.name}\n      inputSize: {size}")
    print(f"      mean: {list(mean)}\n      std: {list(std)}\n      contextLength: {context}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
