"""Checkpoints: written atomically, read without pickle, and a bad file is a clear error that
leaves the live trainer untouched."""

import numpy as np
import pytest

from properties import target
from properties.report import expect_close

pytestmark = pytest.mark.plan("07:edge_cases", "07:real_world", "03:export_import")


def _trainer(seed=0, widths=(2, 3, 1), schedule=None):
    tt = target.get()
    np.random.seed(seed)
    model = tt.Sequential(tt.Linear(widths[0], widths[1]), tt.Tanh(),
                                 tt.Linear(widths[1], widths[2]))
    opt = target.get().Adam(model.parameters(), lr=0.01)
    trainer = target.get().Trainer(model, opt, tt.MSELoss(), scheduler=schedule)
    data = target.get()
    x = np.random.default_rng(seed).normal(size=(6, widths[0]))
    loader = data.make("DataLoader", data.TensorDataset(tt.tensor(x), tt.tensor(x[:, :widths[2]])),
                             batch_size=3)
    trainer.train_epoch(loader)
    return trainer


def _snapshot(trainer):
    return (trainer.model.state_dict(), trainer.epoch, trainer.step,
            {k: list(v) for k, v in trainer.history.items()})


def _assert_untouched(trainer, before):
    params, epoch, step, history = before
    expect_close(trainer.model.state_dict(), params,
                 what="a failed checkpoint load changed the live model's parameters")
    assert (trainer.epoch, trainer.step, trainer.history) == (epoch, step, history)


def _corrupt(path, how):
    raw = path.read_bytes()
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "flipped":
        middle = len(raw) // 2
        path.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1:])
    elif how == "pickled":
        np.savez(path, __meta__=np.array([{"evil": 1}], dtype=object))
    elif how == "plain npz":
        np.savez(path, weights=np.zeros(3))


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "flipped", "pickled",
                                 "plain npz"])
def test_corrupt_checkpoint_is_a_clear_error_and_changes_nothing(tmp_path, how):
    errors = target.get().CheckpointError
    source = _trainer(seed=1)
    path = tmp_path / "ckpt.npz"
    source.save_checkpoint(path)
    _corrupt(path, how)
    live = _trainer(seed=2)
    before = _snapshot(live)
    with pytest.raises(errors, match="checkpoint"):
        live.load_checkpoint(path)
    _assert_untouched(live, before)


def test_checkpoint_of_another_model_names_the_mismatch(tmp_path):
    errors = target.get().CheckpointError
    path = tmp_path / "ckpt.npz"
    _trainer(widths=(2, 4, 1)).save_checkpoint(path)
    live = _trainer()
    before = _snapshot(live)
    with pytest.raises(errors, match=r"layers\.0\.weight"):
        live.load_checkpoint(path)
    _assert_untouched(live, before)


def test_loading_restores_the_saved_schedule_and_a_failed_load_keeps_the_live_one(tmp_path):
    """The schedule is part of the state (as torch's scheduler.state_dict()): a trainer built
    with another schedule takes the saved one on load, and keeps its own if the load fails."""
    tt = target.get()
    path, broken = tmp_path / "ckpt.npz", tmp_path / "broken.npz"
    saved = tt.WarmupCosineSchedule(0.1, 0.01, 2, 10)
    _trainer(seed=1, schedule=saved).save_checkpoint(path)
    _trainer(seed=1, schedule=saved).save_checkpoint(broken)
    _edited(broken, edit_arrays=lambda a: a.update({"rng/keys": np.zeros(3)}))
    live = _trainer(seed=2, schedule=tt.WarmupCosineSchedule(0.5, 0.0, 1, 4))
    own = live.scheduler.state_dict()
    with pytest.raises(tt.CheckpointError):
        live.load_checkpoint(broken)
    assert live.scheduler.state_dict() == own, "a failed load changed the live schedule"
    live.load_checkpoint(path)
    assert live.scheduler.state_dict() == saved.state_dict(), (
        "after load_checkpoint the trainer's schedule is not the saved one")


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(target.get().CheckpointError, match="no checkpoint"):
        _trainer().load_checkpoint(tmp_path / "absent.npz")


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    trainer = _trainer()
    path = tmp_path / "ckpt.npz"
    trainer.save_checkpoint(path)
    good = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError):
        trainer.save_checkpoint(path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]


def test_checkpoint_holds_the_complete_state(tmp_path):
    trainer = _trainer()
    path = tmp_path / "ckpt.npz"
    trainer.save_checkpoint(path)
    with np.load(path, allow_pickle=False) as archive:
        names = set(archive.files)
    assert {"model/layers.0.weight", "model/layers.2.bias", "rng/keys", "__meta__"} <= names
    assert any(n.startswith("optimizer/") and n.endswith("exp_avg_sq") for n in names)


@pytest.mark.bundled_only  # the bundled package's wording
@pytest.mark.parametrize("saved_with", [True, False], ids=["saved-with", "saved-without"])
def test_a_schedule_on_one_side_only_is_a_clear_error(tmp_path, saved_with):
    """A checkpoint saved with a schedule, loaded into a trainer without one (or the other way
    round), would resume with other learning rates: it is refused, and nothing changes."""
    tt = target.get()
    path = tmp_path / "ckpt.npz"
    schedule = tt.WarmupCosineSchedule(0.1, 0.01, 2, 10)
    _trainer(seed=1, schedule=schedule if saved_with else None).save_checkpoint(path)
    live = _trainer(seed=2, schedule=None if saved_with else schedule)
    before = _snapshot(live)
    with pytest.raises(tt.CheckpointError) as raised:
        live.load_checkpoint(path)
    assert str(raised.value) == (
        f"checkpoint {path} was saved {'with' if saved_with else 'without'} a learning-rate "
        f"schedule and this trainer has {'none' if saved_with else 'one'}: resuming would "
        "change the learning rates")
    _assert_untouched(live, before)


def _edited(path, edit_meta=None, edit_arrays=None):
    """Rewrite a saved checkpoint with its metadata (JSON) or arrays edited: a well-formed file
    that is wrong in one named way."""
    import json

    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    if edit_meta:
        edit_meta(meta)
    if edit_arrays:
        edit_arrays(arrays)
    raw = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, __meta__=raw, **arrays)


BAD_CONTENTS = [
    pytest.param(lambda m: m.update(format="something else"), None,
                 r"^\S+ is not a TinyTorch trainer checkpoint$", id="foreign-format"),
    pytest.param(lambda m: m.update(version=99), None,
                 r"^checkpoint \S+ has version 99, this TinyTorch reads version \d+$",
                 id="future-version"),
    pytest.param(lambda m: m.pop("history"), None,
                 r"^checkpoint \S+ is incomplete: missing \['history'\]$", id="missing-history"),
    pytest.param(None, lambda a: a.pop("rng/keys"),
                 r"^checkpoint \S+ is incomplete: missing \['rng'\]$", id="missing-rng"),
    pytest.param(None, lambda a: a.update({"model/layers.0.weight": np.zeros((3, 2))}),
                 r"^checkpoint \S+: layers\.0\.weight has shape \(3, 2\), the model expects "
                 r"\(2, 3\)$", id="wrong-shape"),
    pytest.param(None, lambda a: a.pop("model/layers.2.bias"),
                 r"^checkpoint \S+ is for another model: parameters \['layers\.0\.bias', "
                 r"'layers\.0\.weight', 'layers\.2\.weight'\], this model has \['layers\.0\."
                 r"bias', 'layers\.0\.weight', 'layers\.2\.bias', 'layers\.2\.weight'\]$",
                 id="other-parameters"),
    pytest.param(lambda m: m["optimizer"].update(type="SGD"), None,
                 r"^checkpoint \S+ does not fit this trainer: ", id="other-optimizer"),
]


@pytest.mark.bundled_only  # the bundled package's wording: the file, then what is wrong
@pytest.mark.parametrize("edit_meta, edit_arrays, message", BAD_CONTENTS)
def test_wellformed_but_wrong_checkpoint_names_what_is_wrong(tmp_path, edit_meta, edit_arrays,
                                                              message):
    path = tmp_path / "ckpt.npz"
    _trainer(seed=1).save_checkpoint(path)
    _edited(path, edit_meta, edit_arrays)
    live = _trainer(seed=2)
    before = _snapshot(live)
    with pytest.raises(target.get().CheckpointError, match=message):
        live.load_checkpoint(path)
    _assert_untouched(live, before)


@pytest.mark.bundled_only
def test_corrupt_file_message_says_corrupt(tmp_path):
    path = tmp_path / "ckpt.npz"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(target.get().CheckpointError,
                       match=r"^checkpoint \S+ is corrupt or truncated: "):
        _trainer().load_checkpoint(path)
    with pytest.raises(target.get().CheckpointError, match=r"^no checkpoint at \S+absent\.npz$"):
        _trainer().load_checkpoint(tmp_path / "absent.npz")
