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


class KeyCodec:
    """``pack``/``unpack`` between compact keys of ``nprocs`` processes and ``bytes``;
    ``flat``: the network is a flat tuple of ints (the bag over message serials)."""

    def __init__(self, nprocs: int, flat: bool) -> None:
        self.nprocs = nprocs
        self.flat = flat
        self.tails: list[Key] = []  # tail number -> (ghost, faults left, injections left)
        self._tail_no: dict[Key, tuple[int]] = {}  # tail -> (its number,)
        self.pack: Callable[[Key], bytes] = self._flat_packer() if flat else self._nested_packer()
        self.unpack: Callable[[bytes], Key] = self._flat_unpacker() if flat else self._nested_unpacker()

    def _number(self, tail: Key) -> tuple[int]:
        """``(number,)`` of ``tail``, numbered on first sight."""
        no = self._tail_no.get(tail)
        if no is None:
            no = self._tail_no[tail] = (len(self.tails),)
            self.tails.append(tail)
        return no

    def _flat_packer(self) -> Callable[[Key], bytes]:
        n = self.nprocs
        n1 = n + 1
        tail_no = self._tail_no
        number = self._number
        narrow: dict[int, Callable[..., bytes]] = {}  # count -> Struct("<count>H").pack
        wide = self._wide

        # the last tail's parts and number: successors mostly share their tail objects, and
        # the same objects are the same tail (they are held here, so no id is reused)
        last: list[Any] = [None, None, None, (0,)]
        n2, n3 = n + 2, n + 3

        def pack(key: Key) -> bytes:
            g, f, i = key[n1], key[n2], key[n3]
            if g is last[0] and f is last[1] and i is last[2]:
                no = last[3]
            else:
                t = key[n1:]
                no = tail_no.get(t)
                if no is None:
                    no = number(t)
                last[:] = (g, f, i, no)
            ints = no + key[:n] + key[n]
            try:
                return narrow[len(ints)](*ints)
            except KeyError:
                narrow[len(ints)] = struct.Struct(f"<{len(ints)}H").pack
                return pack(key)
            except struct.error:  # a serial of 2^16 or more (or below 0): the wide form
                return wide(ints)

        return pack

    @staticmethod
    def _wide(ints: Key) -> bytes:
        """``ints`` as 8 signed bytes each and one more byte (odd length)."""
        return struct.pack(f"<{len(ints)}q", *ints) + b"w"

    def _flat_unpacker(self) -> Callable[[bytes], Key]:
        n1 = self.nprocs + 1
        tails = self.tails
        narrow: dict[int, Callable[[bytes], Key]] = {}  # byte length -> Struct("<count>H").unpack

        def unpack(b: bytes) -> Key:
            try:
                t = narrow[len(b)](b)
            except KeyError:
                if len(b) & 1:
                    t = struct.unpack(f"<{len(b) // 8}q", b[:-1])
                else:
                    narrow[len(b)] = struct.Struct(f"<{len(b) // 2}H").unpack
                    t = narrow[len(b)](b)
            return t[1:n1] + (t[n1:],) + tails[t[0]]

        return unpack

    def _nested_packer(self) -> Callable[[Key], bytes]:
        n = self.nprocs
        n1 = n + 1
        tail_no = self._tail_no
        number = self._number
        dumps = marshal.dumps

        def pack(key: Key) -> bytes:
            t = key[n1:]
            no = tail_no.get(t)
            if no is None:
                no = number(t)
            return dumps(no + key[:n1], MARSHAL_VERSION)

        return pack

    def _nested_unpacker(self) -> Callable[[bytes], Key]:
        tails = self.tails
        loads = marshal.loads

        def unpack(b: bytes) -> Key:
            t: Key = loads(b)
            return t[1:] + tails[t[0]]

        return unpack

    def net_empty(self, b: bytes) -> bool:
        """Whether the key packed as ``b`` has no message in flight (quiescent)."""
        n1 = self.nprocs + 1
        if self.flat:
            return len(b) == (8 * n1 + 1 if len(b) & 1 else 2 * n1)
        return not self.unpack(b)[self.nprocs]


class PackedKeys(Sequence[Key]):
    """The keys of a list of packed keys, read-only, each unpacked when read."""

    def __init__(self, packed: list[bytes], codec: KeyCodec) -> None:
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
        return (unpack(b) for b in self.packed if empty(b))


def codec_for(nprocs: int, network: object) -> KeyCodec:
    """The codec for keys whose network is ``network`` (a ``SerialBag``: flat)."""
    from checker.model.network import SerialBag

    return KeyCodec(nprocs, isinstance(network, SerialBag))


def packed_sequence(keys: Sequence[Key], codec: KeyCodec) -> PackedKeys:
    """``keys`` packed by ``codec``, as a ``PackedKeys`` (for tests and scripts)."""
    return PackedKeys([codec.pack(k) for k in keys], codec)
