"""Packed world keys: the explorer's visited states as short canonical ``bytes``.

A compact key (``Semantics.key_of``) is ``(state serial per process..., network, ghost,
faults left, injections left)``. ``KeyCodec`` turns it into ``bytes`` and back, within one
run (the numbering lives in the codec):

* the *tail* ``(ghost, faults left, injections left)`` is numbered on first sight in a
  dict, so two tails share a number iff they are equal as Python values (exactly how the
  tuple keys compared; the ghost holds spec values: strings, ints, tuples...);
* ``flat`` (the bag network: a tuple of message serials): the ints ``(tail number,
  process serials..., network serials...)`` as 2 bytes each (``struct`` ``H``, little
  endian: even length), or, when one of them does not fit in 16 bits, as 8 bytes each
  (``q``) and one more byte (odd length); the number of processes is fixed, so the
  network is the rest;
* nested (the FIFO network: channel names and queues): ``marshal`` version 2 of ``(tail
  number, process serials..., network)``; version 2 writes no references and no
  interning flags, so the bytes depend only on the value (ints, strings, tuples).

Hence ``pack(a) == pack(b)`` iff ``a == b`` for the keys of one semantics, and
``unpack(pack(k)) == k`` (``tests/unit/test_packed.py``). ``PackedKeys`` is a read-only
sequence of keys over a list of packed ones (unpacked on access).
"""

from __future__ import annotations

import marshal
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

Key = tuple[Any, ...]
MARSHAL_VERSION = 2  # the last version without object references (version 3 added them)


class _Numbering(dict[Key, tuple[int]]):
    """Tail -> ``(its number,)``, numbered on first sight (``tails`` lists them)."""

    def __init__(self) -> None:
        super().__init__()
        self.tails: list[Key] = []

    def __missing__(self, tail: Key) -> tuple[int]:
        no = self[tail] = (len(self.tails),)
        self.tails.append(tail)
        return no


class _Unpackers(dict[int, Callable[[bytes], Key]]):
    """Byte length -> the unpacker of that length: ``H`` for an even one, ``q`` (and the
    extra byte) for an odd one; made on first use."""

    def __missing__(self, length: int) -> Callable[[bytes], Key]:
        if length & 1:
            wide = struct.Struct(f"<{length // 8}q").unpack

            def unpack(b: bytes) -> Key:
                return wide(b[:-1])

            self[length] = unpack
            return unpack
        narrow = self[length] = struct.Struct(f"<{length // 2}H").unpack
        return narrow


class KeyCodec:
    """``pack``/``unpack`` between compact keys of ``nprocs`` processes and ``bytes``;
    ``flat``: the network is a flat tuple of ints (the bag over message serials).
    Both are closures (``pack`` runs once per transition or twice, the explorer's hot loop)."""

    def __init__(self, nprocs: int, flat: bool) -> None:
        self.nprocs = nprocs
        self.flat = flat
        self._tail_no = _Numbering()
        self.tails: list[Key] = self._tail_no.tails  # tail number -> (ghost, faults left, injections left)
        self.pack: Callable[[Key], bytes] = self._flat_packer() if flat else self._nested_packer()
        self.unpack: Callable[[bytes], Key] = self._flat_unpacker() if flat else self._nested_unpacker()

    def _flat_packer(self) -> Callable[[Key], bytes]:
        n = self.nprocs
        n1 = n + 1
        tail_no = self._tail_no
        narrow: dict[int, Callable[..., bytes]] = {}  # count -> Struct("<countH").pack (an exact dict: faster)

        # the last tail's parts and number: successors mostly share their tail objects, and
        # the same objects are the same tail (held here, so their ids are not reused);
        # three identity tests cost less than hashing the tail
        last: list[Any] = [None, None, None, (0,)]
        n2, n3 = n + 2, n + 3

        def pack(key: Key) -> bytes:
            g, f, i = key[n1], key[n2], key[n3]
            if g is last[0] and f is last[1] and i is last[2]:
                no = last[3]
            else:
                no = tail_no[key[n1:]]
                last[:] = (g, f, i, no)
            ints = no + key[:n] + key[n]
            try:
                return narrow[len(ints)](*ints)
            except KeyError:  # the first key of this length
                narrow[len(ints)] = struct.Struct(f"<{len(ints)}H").pack
                return pack(key)
            except struct.error:  # a serial of 2^16 or more (or below 0): 8 bytes each, odd length
                return struct.pack(f"<{len(ints)}q", *ints) + b"w"

        return pack

    def _flat_unpacker(self) -> Callable[[bytes], Key]:
        n1 = self.nprocs + 1
        tails = self.tails
        unpackers = _Unpackers()

        def unpack(b: bytes) -> Key:
            t = unpackers[len(b)](b)
            return t[1:n1] + (t[n1:],) + tails[t[0]]

        return unpack

    def _nested_packer(self) -> Callable[[Key], bytes]:
        n1 = self.nprocs + 1
        tail_no = self._tail_no
        dumps = marshal.dumps

        def pack(key: Key) -> bytes:
            return dumps(tail_no[key[n1:]] + key[:n1], MARSHAL_VERSION)

        return pack

    def _nested_unpacker(self) -> Callable[[bytes], Key]:
        tails = self.tails
        loads = marshal.loads

        def unpack(b: bytes) -> Key:
            t: Key = loads(b)
            return t[1:] + tails[t[0]]

        return unpack

    def tail_number(self, tail: Key) -> int:
        """The number of ``(ghost, faults left, injections left)`` in packed keys (numbered on
        first sight, as ``pack`` numbers it)."""
        return self._tail_no[tail][0]

    def net_empty(self, b: bytes) -> bool:
        """Whether the key packed as ``b`` has no message in flight (quiescent)."""
        n1 = self.nprocs + 1
        if self.flat:
            return len(b) == (8 * n1 + 1 if len(b) & 1 else 2 * n1)
        return not self.unpack(b)[self.nprocs]


class PackedKeys(Sequence[Key]):
    """The keys of a list of packed keys, read-only, each unpacked when read."""

    def __init__(self, packed: Sequence[bytes], codec: KeyCodec) -> None:
        self.packed = packed
        self.codec = codec

    def __len__(self) -> int:
        return len(self.packed)

    @overload
    def __getitem__(self, i: int) -> Key: ...

    @overload
    def __getitem__(self, i: slice) -> list[Key]: ...

    def __getitem__(self, i: int | slice) -> Key | list[Key]:
        if isinstance(i, slice):
            return list(map(self.codec.unpack, self.packed[i]))
        return self.codec.unpack(self.packed[i])

    def __iter__(self) -> Iterator[Key]:
        return map(self.codec.unpack, self.packed)

    def quiescent(self) -> Iterator[Key]:
        """The keys without a message in flight, in order (the others are not unpacked)."""
        empty, unpack = self.codec.net_empty, self.codec.unpack
        found = getattr(self.packed, "quiescent", None)  # the compiled core's states find them natively
        if found is not None:
            return map(unpack, found())
        return (unpack(b) for b in self.packed if empty(b))


def codec_for(nprocs: int, network: object) -> KeyCodec:
    """The codec for keys whose network is ``network`` (a ``SerialBag``: flat)."""
    from checker.model.network import SerialBag

    return KeyCodec(nprocs, isinstance(network, SerialBag))


def packed_sequence(keys: Sequence[Key], codec: KeyCodec) -> PackedKeys:
    """``keys`` packed by ``codec``, as a ``PackedKeys`` (for tests and scripts)."""
    return PackedKeys([codec.pack(k) for k in keys], codec)
