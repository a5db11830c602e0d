"""Choosing the target: module names, checkout directories, and what the header says."""

import subprocess
import types

import pytest

from properties import locate


def package_dir(tmp_path):
    (tmp_path / "tinytorch").mkdir()
    (tmp_path / "tinytorch" / "__init__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize("raw", ["tinytorch", "my_tinytorch", "pkg.sub"])
def test_a_dotted_identifier_is_a_module_name(raw):
    spec = locate.parse(raw)
    assert (spec.package, spec.directory) == (raw, None)


def test_a_checkout_and_its_package_directory_name_the_same_target(tmp_path):
    root = package_dir(tmp_path)
    assert locate.parse(str(root)) == locate.TargetSpec(str(root), "tinytorch", root)
    inner = locate.parse(str(root / "tinytorch"))
    assert (inner.package, inner.directory) == ("tinytorch", root)
    assert not inner.is_bundled and locate.parse(None).is_bundled


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp / "nowhere", "no such directory"),
    (lambda tmp: tmp, "holds no package named 'tinytorch'"),
])
def test_a_directory_that_is_not_a_checkout_is_refused(tmp_path, make, message):
    with pytest.raises(locate.TargetError, match=message):
        locate.parse(str(make(tmp_path)))


def test_the_description_names_path_and_git_commit(tmp_path):
    root = package_dir(tmp_path)
    package = types.SimpleNamespace(__file__=str(root / "tinytorch" / "__init__.py"))
    spec = locate.parse(str(root))
    assert locate.describe(spec, package) == f"tinytorch at {root / 'tinytorch'}"
    git = ["git", "-C", str(root), "-c", "user.email=a@b", "-c", "user.name=n"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert locate.describe(spec, package).endswith(f"(git {commit})")
    (root / "tinytorch" / "extra.py").write_text("")
    assert locate.describe(spec, package).endswith(f"(git {commit}+dirty)")
