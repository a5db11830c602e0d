"""Scenario tests from the Module 07 audit: the whole stack actually learns, and the classic
student bugs (no zero_grad, scheduler not applied) are visible."""

import numpy as np
import pytest

from properties import target
from properties.report import expect_close
from properties.tolerances import LEARNED

pytestmark = pytest.mark.plan(
    "01:real_world", "02:real_world", "03:real_world", "04:real_world", "05:real_world",
    "06:real_world", "07:real_world", "06:integration", "07:integration")


def _module(name):
    return target.get().module(name)


def _loader(x, y, batch_size, seed=0):
    tt, data = target.get(), target.get()
    return data.make("DataLoader", data.TensorDataset(tt.tensor(x), tt.tensor(y)),
                           batch_size=batch_size, shuffle=True, seed=seed)


def test_linear_regression_learns_y_equals_2x_plus_1():
    tt = target.get()
    np.random.seed(0)
    x = np.linspace(-1, 1, 32).reshape(-1, 1)
    model = tt.Linear(1, 1)
    trainer = target.get().Trainer(model, target.get().SGD(
        model.parameters(), lr=0.1), tt.MSELoss())
    for _ in range(100):
        trainer.train_epoch(_loader(x, 2 * x + 1, 8))
    assert trainer.history["train_loss"][-1] < 1e-4 * trainer.history["train_loss"][0]
    expect_close(tt.array(model.weight).item(), 2.0, LEARNED,
                 what="the LEARNED weight is not the slope 2 of y = 2x + 1")
    expect_close(tt.array(model.bias).item(), 1.0, LEARNED,
                 what="the LEARNED bias is not the intercept 1 of y = 2x + 1")
    assert len(trainer.history["train_loss"]) == trainer.epoch == 100


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "AdamW"])
def test_mlp_learns_xor(optimizer):
    tt = target.get()
    np.random.seed(1)
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    model = tt.Sequential(tt.Linear(2, 8), tt.Tanh(),
                                 tt.Linear(8, 2))
    lr = 0.5 if optimizer == "SGD" else 0.05
    opt = getattr(target.get(), optimizer)(model.parameters(), lr=lr)
    trainer = target.get().Trainer(model, opt, tt.CrossEntropyLoss())
    loader = _loader(x, y.astype(np.float64), 4)
    for _ in range(300):
        trainer.train_epoch(loader)
    loss, accuracy = trainer.evaluate(loader)
    assert accuracy == 1.0 and loss < 0.1, f"XOR not LEARNED: loss {loss}, accuracy {accuracy}"


def test_missing_zero_grad_accumulates_gradients():
    """The #1 student bug, shown: without zero_grad the second gradient is the sum of both."""
    tt = target.get()
    layer = tt.Linear(1, 1)
    x, y = tt.tensor(np.array([[1.0]])), tt.tensor(np.array([[2.0]]))
    tt.MSELoss()(layer(x), y).backward()
    first = tt.grad(layer.weight).copy()
    tt.MSELoss()(layer(x), y).backward()
    expect_close(tt.grad(layer.weight), 2 * first,
                 what="without zero_grad the second gradient is not the sum of both")


def test_scheduler_changes_the_learning_rate_every_epoch_and_ends_at_min():
    tt = target.get()
    model = tt.Linear(2, 1)
    opt = target.get().SGD(model.parameters(), lr=0.1)
    schedule = target.get().CosineSchedule(max_lr=0.1, min_lr=0.01, total_epochs=10)
    trainer = target.get().Trainer(model, opt, tt.MSELoss(), scheduler=schedule)
    x = np.random.default_rng(0).normal(size=(8, 2))
    for _ in range(11):
        trainer.train_epoch(_loader(x, x[:, :1], 4))
    lrs = trainer.history["learning_rates"]
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.01)
    assert all(a > b for a, b in zip(lrs[:10], lrs[1:11])), f"not decreasing: {lrs}"


def test_without_scheduler_the_learning_rate_stays_constant():
    tt = target.get()
    model = tt.Linear(2, 1)
    trainer = target.get().Trainer(
        model, target.get().SGD(model.parameters(), lr=0.05), tt.MSELoss())
    x = np.random.default_rng(0).normal(size=(8, 2))
    for _ in range(3):
        trainer.train_epoch(_loader(x, x[:, :1], 4))
    assert trainer.history["learning_rates"] == [0.05] * 3
