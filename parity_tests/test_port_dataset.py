"""TimeMachineDataset windows and DJL samplers, by hand."""

import pytest
import torch

from djl_bridge.dataset import JavaRandom, TimeMachineDataset, batch_indices, random_order


def test_windows_offset_3():
    ds = TimeMachineDataset(list(range(100)), batch_size=2, num_steps=5, offset=3)
    assert ds.num_batches == 9 and ds.features.shape == (18, 5)
    assert ds.features.dtype == torch.int32
    assert ds.features[:4].tolist() == [[3, 4, 5, 6, 7], [51, 52, 53, 54, 55], [8, 9, 10, 11, 12], [56, 57, 58, 59, 60]]
    assert torch.equal(ds.labels, ds.features + 1)
    batches = list(ds.batches())
    assert len(batches) == 9
    x, y = batches[8]
    assert x.tolist() == [[43, 44, 45, 46, 47], [91, 92, 93, 94, 95]]
    assert y.tolist() == [[44, 45, 46, 47, 48], [92, 93, 94, 95, 96]]


def test_windows_offset_0_steps_7():
    ds = TimeMachineDataset(list(range(100)), batch_size=3, num_steps=7, offset=0)
    assert ds.num_batches == 4 and len(ds) == 12
    assert ds.features[0].tolist() == list(range(0, 7))
    assert ds.features[1].tolist() == list(range(33, 40))
    assert ds.features[11].tolist() == list(range(87, 94))
    x, _ = next(ds.batches())
    assert x[:, 0].tolist() == [0, 33, 66]


def test_default_offset_is_seeded_java_random():
    ds = TimeMachineDataset(list(range(500)), 4, 35, seed=42)
    assert ds.offset == 15  # new java.util.Random(42).nextInt(35), checked with jshell


def test_too_large_batch_is_clear():
    with pytest.raises(ValueError, match="needs more"):
        TimeMachineDataset(list(range(100)), batch_size=20, num_steps=5, offset=0)


def test_java_random_matches_jvm():
    r = JavaRandom(42)  # values printed by jshell: new Random(42)
    assert [r.next_int(35), r.next_int(10), r.next_int(16), r.next_int(1000000007)] == [15, 3, 10, 102948884]
    assert random_order(10, JavaRandom(7)) == [2, 8, 3, 6, 1, 0, 9, 4, 5, 7]


def test_batch_sampler_keeps_last_partial():
    assert list(batch_indices(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_random_batches_cover_records():
    ds = TimeMachineDataset(list(range(100)), 2, 5, offset=3, random_sample=True, seed=1)
    xs = torch.cat([x for x, _ in ds.batches(generator=JavaRandom(7))])
    order = random_order(18, JavaRandom(7))
    assert torch.equal(xs, ds.features[order])
