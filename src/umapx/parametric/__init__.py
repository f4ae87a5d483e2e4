"""ParametricUMAP's torch parts (the ``parametric`` extra): ``networks`` (the default encoder, decoder and
classifier head, and a network as savable data) and ``training`` (the losses and the loop over edge batches).
The estimator is ``umapx.parametric_umap.ParametricUMAP``; importing umapx never imports these modules."""
