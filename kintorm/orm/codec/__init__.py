"""The codec: the one place that knows how wire JSON and a model's attributes map.

One :class:`~kintorm.orm.codec.core.Codec` per model class (``codec_for(model)``)
loads a record (a decoded wire dict) into a new instance or into an existing one
(the answer of a save or a refresh), dumps an instance to its document
(``{"data", "permissions"}``), validates it, and says what changed since the
snapshot. Its modules, from the bottom up:

* ``frozen``: the snapshot's form of JSON values (lists as tuples), which the
  cyclic garbage collector stops tracking;
* ``fast``: the loading strategy generated per model for records that fit it;
* ``reference``: the loading strategy through cattrs and the model's ``__init__``;
* ``typed``: whole pages decoded by msgspec into structs, and made into instances;
* ``core``: the Codec, which picks a strategy once per model and converter state.

This package's ``__init__`` imports nothing, so that ``kintorm.orm.state`` can use
``frozen`` without an import cycle.
"""
