"""socscope validate shows its progress at once: a bar over the paper's comparisons with the time left."""

import time

from socscope.validation import COMPARISONS, PAPERS, _comparison_bar


class _Row:
    def __init__(self, k):
        self.k = k

    def line(self):
        return f"comparison {self.k} done"


def test_every_paper_has_a_count_of_comparisons():
    assert set(COMPARISONS) == set(PAPERS) and all(n > 0 for n in COMPARISONS.values())


def test_the_bar_counts_comparisons_and_redraws_its_clock(capsys):
    with _comparison_bar("lun2023", True) as report:
        time.sleep(1.3)  # the first comparison can take a minute: the clock is redrawn meanwhile
        report(_Row(1))
        report(_Row(2))
    out, err = capsys.readouterr()
    assert "validate lun2023" in err and "0/5 comparisons [00:01<" in err and "2/5 comparisons" in err
    assert "comparison 1 done" in out and "comparison 2 done" in out  # the table lines, on stdout as before
    with _comparison_bar("lun2023", False) as report:  # --quiet: nothing
        report(_Row(1))
    assert capsys.readouterr() == ("", "")
