"""How re-run outputs are compared: what differs between any two runs of the same code is
normalised away, text changes show as a unified diff, binary outputs by their hash."""

import base64

import pytest

from jupytainer.kernel.compare import changed_cells, rendered


def code(*outputs: dict) -> dict:
    return {"cell_type": "code", "id": "c1", "source": "", "outputs": list(outputs)}


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def result(data: dict, count: int = 1) -> dict:
    return {"output_type": "execute_result", "execution_count": count, "metadata": {},
            "data": data}


def png(payload: bytes) -> dict:
    return {"image/png": base64.b64encode(payload).decode()}


@pytest.mark.parametrize("before, after", [
    ("<Model object at 0x7f3a2c1d9e80>", "<Model object at 0x7f91b0a2c4d0>"),
    ("fit took 1.234 s", "fit took 0.98 s"),
    ("Wall time: 12.5 ms", "Wall time: 3 µs"),
    ("CPU times: user 2.1 s, sys: 40 ms", "CPU times: user 1.9 s, sys: 38 ms"),
    ("run 1b4e28ba-2fa1-11d2-883f-0016d3cca427", "run 6fa459ea-ee8a-3ca4-894e-db77e160355e"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("12.4 ms ± 301 µs per loop (mean ± std. dev. of 7 runs)",
     "9.1 ms ± 1.2 ms per loop (mean ± std. dev. of 7 runs)"),
    ("50/50 [00:02<00:00, 21.3it/s]", "50/50 [00:01<00:00, 40.1it/s]"),
])
def test_timings_addresses_ids_and_colours_are_not_changes(before, after):
    assert changed_cells([code(stream(before))], [code(stream(after))]) == []


def test_a_duration_that_is_a_result_is_compared():
    changes = changed_cells([code(stream("half-life: 1.5 s\n"))],
                            [code(stream("half-life: 1.6 s\n"))])

    assert len(changes) == 1


def test_execution_counts_and_how_a_stream_was_split_are_not_changes():
    stored = code(stream("a\n"), stream("b\n"), result({"text/plain": "3"}, count=4))
    again = code(stream("a\nb\n"), result({"text/plain": "3"}, count=1))

    assert changed_cells([stored], [again]) == []


def test_a_changed_number_is_a_unified_diff_of_the_cell():
    changes = changed_cells([code(stream("100.0\n")), code(stream("same\n"))],
                            [code(stream("101.0\n")), code(stream("same\n"))])

    assert [change.index for change in changes] == [0]
    assert "-100.0" in changes[0].diff and "+101.0" in changes[0].diff
    assert changes[0].describe().startswith("cell 1 (id c1): outputs changed")


def test_images_compare_by_hash_and_markdown_cells_are_skipped():
    markdown = {"cell_type": "markdown", "source": "x"}
    changes = changed_cells([markdown, code(result(png(b"plot one")))],
                            [markdown, code(result(png(b"plot two")))])

    assert [change.index for change in changes] == [1]
    assert any(line.startswith("-[image/png] sha256:") for line in changes[0].diff)
    assert rendered([result(png(b"same"))]) == rendered([result(png(b"same"))])


def test_an_error_compares_by_name_value_and_traceback():
    error = {"output_type": "error", "ename": "ZeroDivisionError",
             "evalue": "division by zero",
             "traceback": ["Cell In[3], line 1", "----> 1 1/0"]}
    same = {**error, "traceback": ["Cell In[7], line 1", "----> 1 1/0"]}
    other = {**error, "ename": "ValueError"}

    assert changed_cells([code(error)], [code(same)]) == []
    assert len(changed_cells([code(error)], [code(other)])) == 1
