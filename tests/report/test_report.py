"""``socscope report``: every kind of result becomes one self-contained HTML page that a browser shows whole."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from socscope.cli.main import main

KINDS = ("particle", "electrode", "cycler", "gitt", "validation", "optical", "pitt", "spicp", "spicp-calibration",
         "population", "afm", "nexafs", "sweep", "batch")


def _report(results, kind, tmp_path):
    out = tmp_path / f"{kind}.html"
    assert main(["report", str(results[kind]), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_recognised(results, kind):
    from socscope.report import detect_kind

    assert detect_kind(results[kind]).name == kind


@pytest.mark.parametrize("kind", KINDS)
def test_report_is_self_contained_with_parameters_and_provenance(reports, kind):
    html = reports[kind].read_text(encoding="utf-8")
    # nothing to fetch: every src is inline data, no link leaves the page
    srcs = re.findall(r'\bsrc="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r'\b(?:src|href)="(?:https?:)?//', html)
    n_fig = int(re.search(r'data-figures="(\d+)"', html).group(1))
    assert n_fig == len(srcs) >= 1
    assert 'id="parameters"' in html and 'id="provenance"' in html
    params = html.split('id="parameters"')[1].split("</table>")[0]
    assert params.count("<tr>") >= 3  # the header and at least two parameters
    if kind != "pitt":  # every command's output records its command line (validation: the Python call)
        prov = html.split('id="provenance"')[1].split("</table>")[0]
        assert re.search(r'<td>command</td><td class="mono">socscope[ .]', prov) and "socscope_version" in prov


def test_report_shows_the_command_and_input_hash(results, reports):
    from socscope._provenance import read_provenance, sha256_file

    html = reports["particle"].read_text(encoding="utf-8")
    mask = results["particle"].parent / "mask.npy"
    assert sha256_file(mask) in html
    assert read_provenance(results["cycler"])["inputs"][0]["sha256"] in reports["cycler"].read_text()


def test_validation_report_holds_the_whole_comparison_table(reports):
    html = reports["validation"].read_text(encoding="utf-8")
    assert "[003] Fig. 2" in html and "[003] Fig. 3" in html and "2 of 2" in html


def test_report_refuses_bad_requests(results, tmp_path, capsys):
    out = _report(results, "gitt", tmp_path)
    before = out.read_bytes()
    assert main(["report", str(results["gitt"]), "--out", str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["report", str(results["gitt"]), "--out", str(out), "--quiet", "--overwrite"]) == 0
    assert main(["report", str(results["gitt"]), "--out", str(tmp_path / "x.txt"), "--quiet"]) == 2
    assert "must end in .html" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty), "--out", str(tmp_path / "e.html"), "--quiet"]) == 2
    assert "not a socscope result" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.nc"), "--out", str(tmp_path / "m.html")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_new_kind_takes_a_detector_and_a_builder(tmp_path):
    from socscope.errors import ParameterError
    from socscope.report import (
        Content,
        Table,
        detect_kind,
        folder_content,
        register_kind,
        write_report,
    )
    from socscope.report._registry import _KINDS

    folder = tmp_path / "afm"
    folder.mkdir()
    (folder / "roughness.csv").write_text("particle,rms_nm\n1,2.5\n2,3.5\n")
    try:
        register_kind("afm-test", title="AFM test", priority=50,
                      detect=lambda p: p.is_dir() and (p / "roughness.csv").is_file(),
                      build=lambda p: folder_content(p, "AFM roughness", tables=["roughness.csv"]))
        with pytest.raises(ParameterError, match="registered already"):
            register_kind("afm-test", title="x", detect=bool, build=lambda p: Content("x", "x", "x"))
        assert detect_kind(folder).name == "afm-test"
        html = write_report(folder, tmp_path / "afm.html").read_text()
        assert "AFM roughness" in html and "3.5" in html
        assert isinstance(folder_content(folder, "t", tables=["roughness.csv"]).tables[0], Table)
    finally:
        _KINDS.pop("afm-test", None)


# ---------------------------------------------------------------------------------------------
# in a browser
# ---------------------------------------------------------------------------------------------

def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


needs_chromium = pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH: the headless browser check "
                                    "needs the Debian package chromium (apt-get install -y chromium)")


_HARNESS = """<!DOCTYPE html><html><body><script>
var pages = %s, seen = {};
pages.forEach(function (url, i) {
  var frame = document.createElement("iframe");
  frame.onload = function () {  // after the page's own load handlers
    var d = frame.contentDocument;
    seen[i] = d ? d.documentElement.outerHTML : "unreadable";
    if (Object.keys(seen).length === pages.length) {
      var out = document.createElement("textarea");
      out.id = "pages";
      out.textContent = JSON.stringify(pages.map(function (_, k) { return seen[k]; }));
      document.body.appendChild(out);
    }
  };
  frame.src = url;
  document.body.appendChild(frame);
});
</script></body></html>"""


def _open_in_browser(pages, *, screenshot=None):
    """Each page's DOM after load and the browser's log: the pages load as frames of one headless
    chromium (one browser start for all), a screenshot of the first page from a second one beside it."""
    base = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", "--allow-file-access-from-files"]
    harness = screenshot.parent / "harness.html" if screenshot is not None else pages[0].parent / "harness.html"
    harness.write_text(_HARNESS % json.dumps([p.resolve().as_uri() for p in pages]), encoding="utf-8")
    procs = [subprocess.Popen(base + ["--dump-dom", harness.resolve().as_uri()], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)]
    if screenshot is not None:
        procs.append(subprocess.Popen(base + ["--window-size=1200,1600", f"--screenshot={screenshot}",
                                              pages[0].resolve().as_uri()],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    (dom, log), *_ = [p.communicate(timeout=120) for p in procs]
    import html as _html

    found = re.search(r'<textarea id="pages">(.*)</textarea>', dom, re.DOTALL)
    assert found, f"the browser did not load the pages: {log[-2000:]}"
    doms = json.loads(_html.unescape(found.group(1)))
    # each page's console lines (the log names the page a message came from)
    logs = [[line for line in log.splitlines() if ":CONSOLE" in line and p.resolve().as_uri() in line]
            for p in pages]
    stray = [line for line in log.splitlines() if ":CONSOLE" in line and not any(
        p.resolve().as_uri() in line for p in pages)]
    return [(d, "\n".join(lg + stray)) for d, lg in zip(doms, logs)]


def _problems(dom: str, log: str) -> list[str]:
    """What a person would see go wrong: console messages, figures that did not load, missing tables."""
    found = [line for line in log.splitlines() if ":CONSOLE" in line]
    want = re.search(r'data-figures="(\d+)"', dom)
    got = re.search(r'data-figures-loaded="(\d+)"', dom)
    if not want or not got or want.group(1) != got.group(1):
        found.append(f"figures loaded: {got.group(1) if got else None} of {want.group(1) if want else None}")
    for table in ("parameters", "provenance"):
        if f'id="{table}"' not in dom:
            found.append(f"no {table} table")
    return found


@needs_chromium
def test_every_report_renders_in_a_headless_browser(reports, tmp_path):
    pages = [reports[kind] for kind in KINDS]
    shot = tmp_path / "report.png"
    for kind, page, (dom, log) in zip(KINDS, pages, _open_in_browser(pages, screenshot=shot)):
        assert _problems(dom, log) == [], kind
        assert int(re.search(r'data-figures-loaded="(\d+)"', dom).group(1)) >= 1
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@needs_chromium
def test_the_browser_check_sees_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body data-figures="2"><figure><img src="data:image/png;base64,AAAA">'
                    '</figure><script>console.error("bad figure");'
                    'window.addEventListener("load", function () { document.body.setAttribute('
                    '"data-figures-loaded", "1"); });</script></body></html>')
    [(dom, log)] = _open_in_browser([page])
    problems = _problems(dom, log)
    assert any("bad figure" in p for p in problems)
    assert "figures loaded: 1 of 2" in problems
    assert "no parameters table" in problems and "no provenance table" in problems
