"""The packed keys of ``checker.engines.packed``: ``pack`` is injective and canonical
(``pack(a) == pack(b)`` iff ``a == b``), ``unpack`` inverts it, on random key shapes and on
the keys of real scenarios (bag and FIFO networks)."""

from __future__ import annotations

import marshal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.engines.explore import _Explorer
from checker.engines.packed import KeyCodec, PackedKeys, codec_for, packed_sequence
from checker.model.semantics import Semantics
from spec.tim3 import SPEC
from tests.tim3_helpers import config

N = 3  # processes in the random keys

# serials on both sides of the 16-bit boundary, so both widths occur
SERIAL = st.sampled_from([0, 1, 2, 255, 256, 65535, 65536, 1 << 40])
OBLIGATION = st.tuples(st.sampled_from(["user1", "user2"]), st.sampled_from([-1, 1, True, 2]))
GHOST = st.tuples(st.lists(OBLIGATION, max_size=2).map(lambda xs: tuple(sorted(xs))))
BUDGET = st.sampled_from([0, 1, 2])
BAG = st.lists(SERIAL, max_size=4).map(lambda xs: tuple(sorted(xs)))
CHANNEL = st.tuples(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["c", "d"])),
                    st.lists(SERIAL, min_size=1, max_size=3).map(tuple))
FIFO = st.lists(CHANNEL, max_size=3, unique_by=lambda c: c[0]).map(lambda cs: tuple(sorted(cs)))


def key_of(net: Any) -> Any:
    return st.tuples(st.tuples(*[SERIAL] * N), net, GHOST, BUDGET, BUDGET).map(
        lambda parts: parts[0] + (parts[1], parts[2], parts[3], parts[4]))


def _packs_injectively_and_unpacks_exactly(keys: list[Any], flat: bool) -> None:
    codec = KeyCodec(N, flat=flat)
    packed = [codec.pack(k) for k in keys]
    for k, b in zip(keys, packed):
        assert codec.unpack(b) == k
        assert codec.net_empty(b) == (not k[N])
    for a, pa in zip(keys, packed):
        for b, pb in zip(keys, packed):
            assert (pa == pb) == (a == b)


@settings(max_examples=300, deadline=None)
@given(st.lists(key_of(BAG), min_size=1, max_size=12))
def test_flat_keys_pack_injectively_and_unpack_exactly(keys: list[Any]) -> None:
    _packs_injectively_and_unpacks_exactly(keys, flat=True)


@settings(max_examples=300, deadline=None)
@given(st.lists(key_of(FIFO), min_size=1, max_size=12))
def test_nested_keys_pack_injectively_and_unpack_exactly(keys: list[Any]) -> None:
    _packs_injectively_and_unpacks_exactly(keys, flat=False)


def test_equal_tails_are_one_number_as_the_tuples_compared() -> None:
    """The ghost holds spec values: ``True == 1``, so those two keys were one state before
    and are one state packed."""
    codec = KeyCodec(1, flat=True)
    assert codec.pack((0, (), ((("u", True),),), 1, 0)) == codec.pack((0, (), ((("u", 1),),), 1, 0))
    assert codec.pack((0, (), ((("u", 2),),), 1, 0)) != codec.pack((0, (), ((("u", 1),),), 1, 0))
    assert len(codec.tails) == 2


def test_wide_serials_take_the_odd_length_form() -> None:
    codec = KeyCodec(2, flat=True)
    narrow, wide = (5, 65535, (3,), ((),), 1, 0), (5, 65536, (3,), ((),), 1, 0)
    assert len(codec.pack(narrow)) == 2 * 4
    assert len(codec.pack(wide)) == 8 * 4 + 1
    assert codec.unpack(codec.pack(wide)) == wide and codec.unpack(codec.pack(narrow)) == narrow


def test_marshal_2_bytes_do_not_depend_on_sharing_or_interning() -> None:
    """Version 3 and later mark objects referenced more than once and write back-references:
    equal values built differently get different bytes. Version 2 (the codec's) does not."""
    name = "".join(["us", "er1"])  # not interned, unlike the literal
    inner = ("user1", 1)
    shared = (inner, inner)
    copied = (tuple(["user1", 1]), (name, 1))
    assert shared == copied
    assert marshal.dumps(shared, 4) != marshal.dumps(copied, 4)
    assert marshal.dumps(shared, 2) == marshal.dumps(copied, 2)
    codec = KeyCodec(1, flat=False)
    k1 = (0, ((("a", "b"), (1, 2)), (("a", name), (3,))), ((inner, inner),), 1, 0)
    k2 = (0, ((("a", "b"), (1, 2)), (("a", "user1"), (3,))), ((tuple(["user1", 1]), ("user1", 1)),), 1, 0)
    assert k1 == k2 and codec.pack(k1) == codec.pack(k2)


def explored(**params: Any) -> tuple[Semantics, _Explorer]:
    sem = Semantics(SPEC, config(**params))
    ex = _Explorer(sem, list(SPEC.properties), None)
    ex.run()
    return sem, ex


def check_scenario(sem: Semantics, ex: _Explorer, states: int) -> None:
    keys = list(ex.keys)
    assert len(keys) == states
    assert len(set(keys)) == len(keys) == len(set(ex.packed))  # distinct states, distinct bytes
    fresh = codec_for(sem.nprocs, sem.knet)  # a second codec, fed the same keys in the same order
    assert [fresh.pack(k) for k in keys] == list(ex.packed)  # deterministic
    assert all(ex.codec.pack(k) == b for k, b in zip(keys, ex.packed))
    n = sem.nprocs
    assert list(ex.keys.quiescent()) == [k for k in keys if not k[n]]
    assert ex.keys[-1] == keys[-1] and ex.keys[1:3] == keys[1:3]
    again = packed_sequence(keys, fresh)
    assert isinstance(again, PackedKeys) and list(again) == keys


def test_real_keys_bag_network() -> None:
    sem, ex = explored(version="v3", users=2, ops=1, faults=("loss",))
    assert ex.codec.flat
    check_scenario(sem, ex, 285)  # as on main before packing


def test_real_keys_fifo_network() -> None:
    sem, ex = explored(version="v3", users=2, ops=1, network="fifo")
    assert not ex.codec.flat
    check_scenario(sem, ex, 123)  # as on main before packing
