"""ParametricUMAP's networks: umap-learn's default encoder and decoder (3 x 100 units, ReLU), a small conv
net for images, the classifier head of the semi-supervised model, and a network as savable data.

A ``Network`` holds a torch module as its class (module and qualified name), its constructor arguments
and its weights (arrays), never as pickled code. Constructor arguments are read back from the module's
attributes of the same names (the convention of torch's own layers and of scikit-learn); an
``nn.Sequential`` is saved as the list of its layers. Loading rebuilds only ``torch.nn.Module``
subclasses of modules already imported (torch's layers and umapx's networks are, with ParametricUMAP; a
user's module is imported by the user): a model file never imports a module by itself.
"""

from __future__ import annotations

import inspect
import math
import sys
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..model import savable

HIDDEN = (100, 100, 100)  # umap-learn's default encoder and decoder


class MLP(nn.Sequential):
    """Linear layers of ``hidden`` units with ReLU between them, from ``n_in`` to ``n_out`` features."""

    def __init__(self, n_in, n_out, hidden=HIDDEN):
        sizes = [n_in, *hidden]
        layers = [m for a, b in zip(sizes[:-1], sizes[1:], strict=True) for m in (nn.Linear(a, b), nn.ReLU())]
        super().__init__(*layers, nn.Linear(sizes[-1], n_out))
        self.n_in, self.n_out, self.hidden = n_in, n_out, tuple(hidden)


class ChannelsFirst(nn.Module):
    """Images (n, h, w, c) as (n, c, h, w)."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2)


class ConvEncoder(nn.Sequential):
    """A small conv net for images given as flat rows: rows reshaped to ``shape`` ((c, h, w), or (h, w, c)
    with ``channels_last``), two stride-2 3x3 convolutions (16 and 32 channels, ReLU), then 100 units to
    ``n_out``."""

    def __init__(self, shape, n_out, channels_last=False):
        shape = tuple(shape)
        channels, height, width = (shape[2], shape[0], shape[1]) if channels_last else shape
        layout = [nn.Unflatten(1, shape), ChannelsFirst()] if channels_last else [nn.Unflatten(1, shape)]
        flat = 32 * math.ceil(height / 4) * math.ceil(width / 4)
        super().__init__(
            *layout,
            nn.Conv2d(channels, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(flat, HIDDEN[0]),
            nn.ReLU(),
            nn.Linear(HIDDEN[0], n_out),
        )
        self.shape, self.n_out, self.channels_last = shape, n_out, channels_last


def image_layout(dims):
    """(shape, channels_last) of an image ``dims``: (h, w) is one channel, (1, h, w); of three sizes, the
    last is the channel count when it is at most 4 and the first is larger (Keras' (h, w, c)), else the first."""
    dims = tuple(int(d) for d in dims)
    if len(dims) == 2:
        return (1, *dims), False
    return dims, dims[-1] <= 4 < dims[0]


def default_encoder(n_features, n_components, dims=None):
    """umap-learn's encoder (an MLP of 3 x 100 units), or for an image ``dims`` the small ``ConvEncoder``."""
    if dims is not None and len(dims) in (2, 3):
        shape, channels_last = image_layout(dims)
        return ConvEncoder(shape, n_components, channels_last)
    return MLP(n_features, n_components)


def default_decoder(n_components, n_features):
    return MLP(n_components, n_features)


def split_head(encoder):
    """(trunk, last layer) of an encoder that is a plain run of layers (an ``nn.Sequential`` with
    Sequential's own ``forward``) ending in ``nn.Linear``, so that the classifier head reads the trunk's
    features; else (None, encoder): the head reads the embedding."""
    plain = isinstance(encoder, nn.Sequential) and type(encoder).forward is nn.Sequential.forward
    if plain and len(encoder) > 1 and isinstance(encoder[-1], nn.Linear):
        return nn.Sequential(*list(encoder)[:-1]), encoder[-1]
    return None, encoder


def classifier_head(encoder, n_components, n_classes):
    """The semi-supervised model's second branch (001 Fig. 2D): 100 units and ReLU, then the class logits,
    on the features the embedding layer reads (``split_head``)."""
    trunk, last = split_head(encoder)
    width = last.in_features if trunk is not None else n_components
    return MLP(width, n_classes, hidden=HIDDEN[:1])


def output_width(module, n_in, what, device):
    """The width of ``module``'s output for rows of ``n_in`` features, or a ValueError naming ``what``."""
    training = module.training
    try:
        with torch.no_grad():
            out = module.eval()(torch.zeros(2, n_in, device=device))  # eval: no running statistics move
    except (RuntimeError, ValueError, TypeError) as error:
        raise ValueError(f"the {what} cannot take rows of {n_in} features: {error}") from None
    finally:
        module.train(training)
    if out.ndim != 2:
        raise ValueError(
            f"the {what} must return a 2-D output (rows x features); it returned shape {tuple(out.shape)}."
        )
    return out.shape[1]


@savable
@dataclass
class Network:
    """A torch module as data: ``spec`` names its class and constructor arguments (``describe``),
    ``weights`` maps each entry of its ``state_dict`` to an array."""

    spec: dict
    weights: dict

    @classmethod
    def of(cls, module):
        spec = describe(module)
        with torch.random.fork_rng(devices=[]):  # a rebuilt module draws weights: the caller's stream stays
            rebuilt = build(spec, what="the network")
        mine, theirs = module.state_dict(), rebuilt.state_dict()
        if {k: tuple(v.shape) for k, v in mine.items()} != {k: tuple(v.shape) for k, v in theirs.items()}:
            raise ValueError(
                f"cannot save the {type(module).__name__} module: built again from its class and the "
                "constructor arguments read from its attributes, it has other weights. Store each "
                "constructor argument as an attribute of the same name (self.<name> = <name>)."
            )
        return cls(spec, {k: v.detach().cpu().numpy() for k, v in mine.items()})

    def module(self, what, device="cpu"):
        with torch.random.fork_rng(devices=[]):
            module = build(self.spec, what)
        module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.weights.items()})
        return module.to(device).eval()


def describe(module):
    """The class and constructor arguments of ``module`` as JSON-like data (see the module docstring)."""
    cls = type(module)
    spec = {"module": cls.__module__, "name": cls.__qualname__}
    if isinstance(module, nn.Sequential) and cls is nn.Sequential:
        return {**spec, "layers": [describe(m) for m in module]}
    kwargs = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if not hasattr(module, name):
            if p.default is p.empty:
                raise ValueError(
                    f"cannot save the {cls.__qualname__} module: its constructor argument {name!r} is not "
                    f"stored as an attribute of the same name (self.{name} = {name})."
                )
            continue
        value = getattr(module, name)
        if isinstance(p.default, bool) and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None  # a layer's bias=True is kept as its bias tensor
        elif isinstance(value, nn.Module):
            value = {"network": describe(value)}
        kwargs[name] = value
    return {**spec, "kwargs": kwargs}


def build(spec, what):
    """The module ``spec`` describes (``describe``), with fresh weights."""
    cls = _module_class(spec["module"], spec["name"], what)
    if "layers" in spec:
        return cls(*[build(layer, what) for layer in spec["layers"]])
    kwargs = {
        k: build(v["network"], what) if isinstance(v, dict) and "network" in v else v for k, v in spec["kwargs"].items()
    }
    return cls(**kwargs)


def _module_class(module_name, name, what):
    """The ``nn.Module`` subclass ``module_name.name`` of a module already imported, looked up in the
    module's own namespace: nothing is imported (torch's layers and umapx's networks are imported with
    ParametricUMAP; a user's module must be imported by the user)."""
    obj = sys.modules.get(module_name)
    if obj is None:
        raise ValueError(
            f"the {what} is a {module_name}.{name}, and {module_name} is not imported; import it "
            f"before loading (a model file never imports a module by itself)."
        )
    for part in name.split("."):
        obj = vars(obj).get(part) if hasattr(obj, "__dict__") else None
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)):
        raise ValueError(f"the {what} names {module_name}.{name}, which is not a torch.nn.Module class.")
    return obj
