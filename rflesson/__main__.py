"""``python -m rflesson MODEL --input H W``: the receptive field of each stage of a model.

MODEL names a function that builds the model, called without arguments:

* ``package.module:factory``, e.g. ``torchvision.models:resnet50``;
* ``path/to/file.py:factory`` for a file of your own.

Examples::

    python -m rflesson torchvision.models:resnet50 --input 224 224 --depth 1
    python -m rflesson my_models.py:build_unet --input 256 256 --output decoder

Bad input (a model that cannot be found or built, a size the model does not
accept, an operation rflesson cannot follow) gets a one-line error on stderr
and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input on the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m rflesson",
        description="Print the exact receptive field (size, jump, start) after each stage of a "
        "PyTorch model.",
    )
    parser.add_argument(
        "model", help="module:factory or file.py:factory, e.g. torchvision.models:resnet50"
    )
    parser.add_argument(
        "--input",
        nargs="+",
        type=int,
        required=True,
        metavar="N",
        help="input size: one length per spatial axis (e.g. 224 224), or one for all",
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=None,
        help="fold the table to modules at this depth (1: ResNet's layer1..layer4)",
    )
    parser.add_argument("--output", default=None, help="stop at this module path or operation")
    parser.add_argument(
        "--pointwise",
        action="store_true",
        help="also list operations that do not change the field (activations, norms)",
    )
    parser.add_argument(
        "--traceback", action="store_true", help="on an unexpected error, show the traceback"
    )
    return parser


def load_factory(spec: str):
    """The callable named by ``module:factory`` or ``file.py:factory``."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise UsageError(
            f"model={spec!r}: give it as module:factory (torchvision.models:resnet50) or "
            "file.py:factory"
        )
    if where.endswith(".py") or "/" in where or "\\" in where:
        module = _load_file(Path(where))
    else:
        try:
            module = importlib.import_module(where)
        except Exception as error:  # a missing package, or one that fails while importing
            raise UsageError(f"cannot import {where}: {type(error).__name__}: {error}") from None
    factory = getattr(module, name, None)
    if factory is None:
        raise UsageError(f"{where} has no {name!r}")
    if not callable(factory):
        raise UsageError(f"{where}:{name} is not a function that builds a model")
    return factory


def _load_file(path: Path):
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise UsageError(f"cannot run {path}: {type(error).__name__}: {error}") from None
    finally:
        sys.path.pop(0)
    return module


def run(argv: list[str]) -> str:
    """The text the command prints (raises ``UsageError`` or ``ValueError`` on bad input)."""
    args = _parser().parse_args(argv)
    import torch.nn as nn

    from .rf import rf_table

    factory = load_factory(args.model)
    try:
        model = factory()
    except Exception as error:
        raise UsageError(f"{args.model}() failed: {type(error).__name__}: {error}") from None
    if not isinstance(model, nn.Module):
        raise UsageError(f"{args.model}() returned a {type(model).__name__}, not a torch.nn.Module")
    size = args.input[0] if len(args.input) == 1 else tuple(args.input)
    table = rf_table(model, size, depth=args.depth, output=args.output, pointwise=args.pointwise)
    shown = " x ".join(str(n) for n in args.input)
    return f"{args.model} ({type(model).__name__}), input {shown}\n{table}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        print(run(argv))
    except UsageError as error:
        print(f"rflesson: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ValueError, TypeError) as error:  # rflesson's own clear errors
        print(f"rflesson: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a bug: still one line, unless asked for the traceback
        if "--traceback" in argv:
            raise
        print(
            f"rflesson: error: unexpected {type(error).__name__}: {_one_line(error)} "
            "(run with --traceback to see where; please report it)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return 0


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
