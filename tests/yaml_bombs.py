"""YAML "billion laughs" documents: a few hundred bytes that expand to ~9**9 values.

PyYAML builds each alias as a reference to one shared object, so parsing is cheap;
whatever walks or formats the value whole (``repr``, a deep copy, an error message
that quotes it) takes exponential time and memory. Config validation must answer
such a value with a short error at once.
"""

from __future__ import annotations


def list_bomb(levels: int = 9, width: int = 9) -> str:
    """A flow sequence nested ``levels`` deep, each level ``width`` aliases of the last."""
    text = "&l0 [" + ", ".join(["lol"] * width) + "]"
    for k in range(1, levels):
        text = f"&l{k} [" + ", ".join([text] + [f"*l{k - 1}"] * (width - 1)) + "]"
    return text


def mapping_bomb(levels: int = 9, width: int = 9) -> str:
    """The same as nested flow mappings (keys ``k0`` ... ``k{width-1}``)."""
    text = "&d0 {" + ", ".join(f"k{i}: lol" for i in range(width)) + "}"
    for k in range(1, levels):
        items = [f"k0: {text}"] + [f"k{i}: *d{k - 1}" for i in range(1, width)]
        text = f"&d{k} {{" + ", ".join(items) + "}"
    return text


def merge_bomb(levels: int = 9, width: int = 9) -> str:
    """Nested merge keys (``<<: [*m, *m, ...]``): PyYAML's own merge copies every
    merged key once per merge, ``width**levels`` key nodes in all."""
    text = "&m0 {" + ", ".join(f"k{i}: lol" for i in range(width)) + "}"
    for k in range(1, levels):
        text = f"&m{k} {{<<: [{text}, " + ", ".join([f"*m{k - 1}"] * (width - 1)) + "]}"
    return text
