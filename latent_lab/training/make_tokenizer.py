"""Build a real CLIP BPE tokenizer offline from the vocabulary that open-clip-torch ships.

    pip download --no-deps open-clip-torch -d wheels
    python -m latent_lab.training.make_tokenizer wheels/open_clip_torch-*.whl

Writes vocab.json + merges.txt (the same 49,408 tokens as OpenAI's CLIP) for CLIPTokenizer.
"""

import argparse
import gzip
import json
from pathlib import Path
import tempfile
import zipfile

from transformers import CLIPTokenizer

from latent_lab.config import EMBEDDED_PIPELINE

VOCAB_IN_WHEEL = "open_clip/bpe_simple_vocab_16e6.txt.gz"


def bytes_to_unicode():
    """CLIP's reversible map from the 256 byte values to printable unicode characters."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    characters = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            characters.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, characters)))


def vocab_and_merges(bpe_lines):
    """The token list and merge rules exactly as CLIP's SimpleTokenizer builds them."""
    merges = [tuple(line.split()) for line in bpe_lines[1:49152 - 256 - 2 + 1]]
    alphabet = list(bytes_to_unicode().values())
    tokens = alphabet + [c + "</w>" for c in alphabet] + ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {token: i for i, token in enumerate(tokens)}, merges


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="the open-clip-torch wheel, or its bpe_simple_vocab_16e6.txt.gz")
    parser.add_argument("--out", default=str(EMBEDDED_PIPELINE / "tokenizer"))
    args = parser.parse_args()
    if args.source.endswith(".whl"):
        with zipfile.ZipFile(args.source) as wheel:
            packed = wheel.read(VOCAB_IN_WHEEL)
    else:
        packed = Path(args.source).read_bytes()
    vocab, merges = vocab_and_merges(gzip.decompress(packed).decode("utf-8").split("\n"))
    with tempfile.TemporaryDirectory() as folder:
        vocab_file, merges_file = Path(folder, "vocab.json"), Path(folder, "merges.txt")
        vocab_file.write_text(json.dumps(vocab, ensure_ascii=False))
        merges_file.write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
        tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)
        tokenizer.save_pretrained(args.out)
    print(f"{len(vocab)} tokens written to {args.out}")


if __name__ == "__main__":
    main()
