"""The key `%%def` reuses an image by: what it covers (the definition, the flags, every host
input of %files and %appfiles, through templated paths and folders) and what it ignores."""

from jupytainer.kernel.magics.reuse import build_key, forget, is_current, remember

DEFINITION = ("Bootstrap: busybox\nMirrorURL: file:///bin/busybox\n\n"
              "%files\n    {{ folder }} /data\n    one.txt\n\n"
              "%appfiles tool\n    tool.cfg /tool.cfg\n")
FLAGS = ["--build-arg", "folder=inputs"]


def _inputs(tmp_path):
    (tmp_path / "inputs" / "deep").mkdir(parents=True)
    (tmp_path / "inputs" / "deep" / "a.txt").write_text("a")
    (tmp_path / "one.txt").write_text("one")
    (tmp_path / "tool.cfg").write_text("cfg")
    (tmp_path / "unrelated.txt").write_text("x")


def test_the_key_changes_with_any_input_file_even_deep_in_a_folder(tmp_path):
    _inputs(tmp_path)
    keys = [build_key(DEFINITION, FLAGS, str(tmp_path))]
    for name in ("inputs/deep/a.txt", "one.txt", "tool.cfg"):
        (tmp_path / name).write_text("changed " + name)
        keys.append(build_key(DEFINITION, FLAGS, str(tmp_path)))

    assert len(set(keys)) == 4


def test_the_key_changes_with_the_text_and_flags_but_not_unrelated_files(tmp_path):
    _inputs(tmp_path)
    key = build_key(DEFINITION, FLAGS, str(tmp_path))
    (tmp_path / "unrelated.txt").write_text("changed")

    assert build_key(DEFINITION, FLAGS, str(tmp_path)) == key
    assert build_key(DEFINITION + "\n", FLAGS, str(tmp_path)) != key
    assert build_key(DEFINITION, [*FLAGS, "--notest"], str(tmp_path)) != key


def test_a_definition_that_does_not_parse_still_has_a_key(tmp_path):
    assert build_key("Bootstrap: nonsense\n%files\n", [], str(tmp_path))
    assert build_key(DEFINITION, [], str(tmp_path))


def test_an_image_is_current_only_with_its_key_and_untouched(tmp_path):
    image = tmp_path / "tool.sif"
    image.write_bytes(b"image")
    remember(image, "k1")

    assert is_current(image, "k1") and not is_current(image, "k2")
    image.write_bytes(b"another image")
    assert not is_current(image, "k1")
    forget(image)
    assert not is_current(image, "k1") and not (tmp_path / "tool.sif.build.json").exists()
