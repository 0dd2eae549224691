"""Movie reader: small stacks written with tifffile (ImageJ, OME, RGB, compressed), bad files, binning."""

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from socscope.errors import FileFormatError, ParameterError
from socscope.io import bin_frames, open_movie

tifffile = pytest.importorskip("tifffile")


@pytest.fixture
def stack():
    rng = np.random.default_rng(4)
    return rng.integers(0, 4096, size=(12, 20, 24), dtype=np.uint16)


def test_imagej_uint16_memory_mapped(tmp_path, stack):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, stack, imagej=True, resolution=(1 / 0.0347, 1 / 0.0347),
                     metadata={"axes": "TYX", "finterval": 0.5, "unit": "um"})
    with open_movie(path) as movie:
        assert (len(movie), movie.n_frames, movie.shape) == (12, 12, (20, 24))
        assert movie.dtype == np.uint16 and not movie.is_rgb
        # uncompressed and contiguous: the frames are a view of a memory map, not a copy in memory
        assert isinstance(movie._data, np.memmap)
        assert movie.metadata["memory_mapped"] and movie.metadata["format"] == "imagej-tiff"
        assert movie.metadata["time_source"] == "imagej-finterval"
        # times are k · finterval exactly (binary fractions)
        assert_array_equal(movie.time_s, 0.5 * np.arange(12))
        # 1/0.0347 px per µm written as a rational: the pixel size comes back to 1e-6 relative
        assert_allclose(movie.metadata["pixel_size_nm"], 34.7, rtol=1e-6)
        frames = movie.read(3, 7)
        assert frames.dtype == np.float64
        assert_array_equal(frames, stack[3:7])  # grayscale values are returned unscaled
        chunks = list(movie.iter_chunks(5))
        assert [s for s, _ in chunks] == [0, 5, 10] and [len(c) for _, c in chunks] == [5, 5, 2]
        assert_array_equal(np.concatenate([c for _, c in chunks]), stack)


def test_frame_interval_argument_overrides_metadata(tmp_path, stack):
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "TYX", "finterval": 0.5})
    movie = open_movie(path, frame_interval_s=2.0)
    assert movie.metadata["time_source"] == "argument"
    assert_array_equal(movie.time_s, 2.0 * np.arange(12))


def test_ome_tiff_delta_t(tmp_path, stack):
    path = tmp_path / "movie.ome.tif"
    delta_t = [0.0, 0.1, 0.25, 0.3, 0.55, 0.6, 0.8, 0.9, 1.1, 1.2, 1.4, 1.5]
    try:
        tifffile.imwrite(path, stack, ome=True, metadata={
            "axes": "TYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2,
            "Plane": {"DeltaT": delta_t, "DeltaTUnit": ["ms"] * 12}})
    except (TypeError, ValueError, KeyError) as exc:  # pragma: no cover - depends on the tifffile version
        pytest.skip(f"this tifffile cannot write OME Plane DeltaT: {exc}")
    with tifffile.TiffFile(path) as tf:
        written = tf.ome_metadata or ""
    if "DeltaT" not in written:  # pragma: no cover - depends on the tifffile version
        pytest.skip("this tifffile does not write OME Plane DeltaT")
    movie = open_movie(path)
    assert movie.metadata["format"] == "ome-tiff" and movie.metadata["time_source"] == "ome-deltat"
    # DeltaT in ms converted to s: decimal values, so compare to round-off
    assert_allclose(movie.time_s, np.array(delta_t) * 1e-3, rtol=1e-12)
    assert_allclose(movie.metadata["pixel_size_nm"], 200.0, rtol=1e-12)  # 0.2 µm
    assert_array_equal(movie.read(0, 12), stack)


def test_rgb_uint8_intensity(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(5, 8, 9, 3), dtype=np.uint8)
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    movie = open_movie(path, frame_interval_s=0.04)
    assert movie.is_rgb and movie.dtype == np.uint8 and movie.shape == (8, 9)
    expected = (rgb[..., 0].astype(float) + rgb[..., 1] + rgb[..., 2]) / (3 * 255)
    # (R + G + B) / (3 · 255) as in [002]: exact up to float64 round-off of one division
    assert_allclose(movie.read(0, 5), expected, rtol=0, atol=1e-15)


def test_rgb_uint16_and_planar(tmp_path):
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 65536, size=(3, 6, 7, 3), dtype=np.uint16)
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, rgb.transpose(0, 3, 1, 2), photometric="rgb", planarconfig="separate")
    movie = open_movie(path, frame_interval_s=1.0)
    assert movie.is_rgb
    # uint16 full scale is 65535; round-off only
    assert_allclose(movie.read(0, 3), rgb.astype(float).sum(axis=-1) / (3 * 65535), rtol=0, atol=1e-15)


def test_compressed_stack_read_page_by_page(tmp_path, stack):
    path = tmp_path / "zlib.tif"
    tifffile.imwrite(path, stack, compression="zlib")
    rgb = np.stack([stack.astype(np.uint8)] * 3, axis=-1)
    path_rgb = tmp_path / "zlib_rgb.tif"
    tifffile.imwrite(path_rgb, rgb, compression="zlib", photometric="rgb")
    with open_movie(path, frame_interval_s=0.1) as movie:
        assert movie._data is None and not movie.metadata["memory_mapped"]
        assert_array_equal(movie.read(2, 9), stack[2:9])
        assert_allclose(movie.time_s, 0.1 * np.arange(12), rtol=1e-15)  # k · 0.1 in float64
    with open_movie(path_rgb, frame_interval_s=0.1) as movie:
        assert movie.is_rgb and movie._data is None
        assert_allclose(movie.read(0, 12), stack.astype(np.uint8) / 255.0, rtol=0, atol=1e-15)


def test_missing_time_information(tmp_path, stack):
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, stack)
    with pytest.raises(ParameterError, match="frame_interval_s"):
        open_movie(path)
    with pytest.raises(ParameterError, match="positive"):
        open_movie(path, frame_interval_s=-1.0)


def test_corrupt_and_truncated_files(tmp_path, stack):
    junk = tmp_path / "junk.tif"
    junk.write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(FileFormatError, match=r"junk\.tif.*expected a TIFF image stack"):
        open_movie(junk, frame_interval_s=1.0)
    for name, kwargs in [("cut.tif", {}), ("cut_zlib.tif", {"compression": "zlib"}),
                         # ImageJ and OME stacks whose metadata (frame count, page chain) outlive the cut:
                         # these used to open as one frame
                         ("cut_imagej.tif", {"imagej": True, "metadata": {"axes": "TYX", "finterval": 1.0}}),
                         ("cut_ome.ome.tif", {"ome": True, "metadata": {"axes": "TYX"}})]:
        good = tmp_path / ("good_" + name)
        tifffile.imwrite(good, stack, **kwargs)
        data = good.read_bytes()
        cut = tmp_path / name
        cut.write_bytes(data[: len(data) * 2 // 3])
        with pytest.raises(FileFormatError, match=rf"{name.replace('.', '[.]')}.*truncated.*expected a TIFF"):
            open_movie(cut, frame_interval_s=1.0)
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        open_movie(empty, frame_interval_s=1.0)
    with pytest.raises(FileFormatError, match="no such file"):
        open_movie(tmp_path / "absent.tif", frame_interval_s=1.0)


def test_tifffile_complaints_stay_with_the_thread_that_opens_the_file():
    """Two movies opened at once in two threads: neither takes the other's complaints, and tifffile's
    logger gets its own propagate setting back when both are done."""
    import logging
    import threading

    from socscope.io.movies import _tifffile_complaints

    log = logging.getLogger("tifffile")
    assert log.propagate
    with _tifffile_complaints() as mine:
        elsewhere = threading.Thread(target=lambda: log.warning("invalid page offset 123 (another file)"))
        with _tifffile_complaints() as other:  # an overlapping opener
            elsewhere.start()
            elsewhere.join()
            log.warning("invalid page offset 456 (this file)")
        assert not log.propagate  # the first opener is still at work
    assert mine.messages == ["invalid page offset 456 (this file)"]
    assert other.messages == ["invalid page offset 456 (this file)"]  # same thread, nested: both hear it
    assert log.propagate and not any(type(h).__name__ == "_TiffComplaints" for h in log.handlers)


def test_pages_of_different_shapes(tmp_path):
    path = tmp_path / "mixed.tif"
    with tifffile.TiffWriter(path) as tw:
        for k in range(5):
            tw.write(np.zeros((16, 16) if k != 3 else (16, 15), np.uint16), contiguous=False)
    with pytest.raises(FileFormatError, match=r"mixed\.tif: page 3 has shape \(16, 15\) but page 0 has shape \(16, 16\)"):
        open_movie(path, frame_interval_s=1.0)


def test_read_range_checked(tmp_path, stack):
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, stack)
    movie = open_movie(path, frame_interval_s=1.0)
    for start, stop in [(-1, 2), (5, 5), (0, 13)]:
        with pytest.raises(ParameterError, match="0 <= start < stop <= 12"):
            movie.read(start, stop)
    with pytest.raises(ParameterError, match="chunk_frames"):
        next(movie.iter_chunks(0))


def test_bin_frames_arithmetic_and_drop_warning():
    frames = np.arange(10.0)[:, None, None] * np.ones((1, 2, 3))
    binned, t = bin_frames(frames, 5, time_s=np.arange(10) * 0.5)
    # means of 0..4 and 5..9, and of their times; exact in binary floating point
    assert_array_equal(binned[:, 0, 0], [2.0, 7.0])
    assert_array_equal(t, [1.0, 3.5])
    assert binned.shape == (2, 2, 3) and binned.dtype == np.float64
    with pytest.warns(UserWarning, match="last 2 frame"):
        binned, t = bin_frames(frames, 4)
    assert t is None
    assert_array_equal(binned[:, 0, 0], [1.5, 5.5])
    with pytest.raises(ParameterError, match="from 1 to the number of frames"):
        bin_frames(frames, 0)
    with pytest.raises(ParameterError, match=r"\(10\)"):
        bin_frames(frames, 11)
    with pytest.raises(ParameterError, match="one time per frame"):
        bin_frames(frames, 2, time_s=np.arange(9.0))
    frames_u16 = (np.arange(6)[:, None, None] * np.ones((1, 2, 2))).astype(np.uint16)
    assert_array_equal(bin_frames(frames_u16, 3)[0][:, 0, 0], [1.0, 4.0])  # integer input, float mean


def test_video_frames_through_imageio(tmp_path):
    # .mp4/.avi go through imageio's video plugins; an animated GIF (pillow plugin) takes the same
    # reading path without needing ffmpeg on the test machine
    iio = pytest.importorskip("imageio.v3")
    from socscope.io.movies import _open_video

    rgb = np.random.default_rng(5).integers(0, 256, size=(4, 10, 12, 3), dtype=np.uint8)
    path = tmp_path / "clip.gif"
    try:
        iio.imwrite(path, rgb, loop=0, duration=100)
    except (ImportError, OSError, ValueError) as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"imageio cannot write GIF here: {exc}")
    with pytest.raises(ParameterError, match="frame_interval_s"):
        _open_video(path, None)
    with _open_video(path, 0.04) as movie:
        assert movie.is_rgb and movie.n_frames == 4 and movie.shape == (10, 12)
        assert movie.metadata["format"] == "video"
        stored = iio.imread(path, index=None)[..., :3]  # GIF stores a palette: compare with what it holds
        # (R + G + B) / (3 · 255), round-off only
        assert_allclose(movie.read(0, 4), stored.astype(float).sum(axis=-1) / 765, rtol=0, atol=1e-15)
        assert_allclose(movie.time_s, 0.04 * np.arange(4), rtol=1e-15)


def test_video_without_backend_names_the_extra(tmp_path, monkeypatch):
    pytest.importorskip("imageio")
    import socscope.io.movies as movies

    # as on a machine with imageio but no ffmpeg/PyAV plugin
    monkeypatch.setattr(movies, "_video_backend_installed", lambda: False)
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    with pytest.raises(ImportError, match=r"pip install imageio\[ffmpeg\]"):
        open_movie(path, frame_interval_s=0.04)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="resident-set size read from /proc (Linux)")
def test_release_pages_keeps_the_resident_set_at_one_chunk(tmp_path):
    """Streaming a memory-mapped stack: without release the mapped pages stay resident."""
    import gc

    def rss_mb():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

    path = tmp_path / "big.tif"
    data = np.random.default_rng(0).integers(0, 60000, (100, 512, 512), dtype=np.uint16)  # 50 MB
    tifffile.imwrite(path, data, imagej=True, metadata={"finterval": 1.0})
    del data
    grown = {}
    for release in (False, True):
        mv = open_movie(path, frame_interval_s=1.0)
        gc.collect()
        r0 = rss_mb()
        for _, chunk in mv.iter_chunks(10):
            del chunk
            if release:
                mv.release_pages()
        gc.collect()
        grown[release] = rss_mb() - r0
        mv.close()
    # measured: +50 MB (the whole file) without release, +0 MB with it
    assert grown[False] > 30 and grown[True] < 10, grown


def test_real_h264_video(tmp_path):
    """An H.264 .mp4 through imageio's ffmpeg plugin: frame count, frame times from its rate, intensity."""
    iio = pytest.importorskip("imageio.v3")
    pytest.importorskip("imageio_ffmpeg", reason="needs the ffmpeg plugin: pip install 'socscope[video]'")
    frames = np.zeros((30, 64, 96, 3), np.uint8)
    for k in range(30):
        frames[k] = 40 + 4 * k
        frames[k, 20:40, 30:60] = 200
    path = tmp_path / "clip.mp4"
    iio.imwrite(path, frames, fps=10, codec="libx264", macro_block_size=1)
    with open_movie(path) as movie:
        assert movie.n_frames == 30 and movie.shape == (64, 96) and movie.is_rgb
        assert movie.metadata["time_source"] == "video-fps"
        # frame k at k / fps with the container's 10 fps (measured 0); 1e-12 allows a rate kept as
        # a rational that does not convert to exactly 10.0
        assert_allclose(movie.time_s, np.arange(30) / 10.0, rtol=1e-12)
        data = movie.read(0, 30)
    expected = frames.astype(float).sum(axis=-1) / (3 * 255)
    # H.264 is lossy: flat regions come back within a few grey levels (measured 0 here)
    assert np.abs(data - expected)[:, 25:35, 35:55].max() < 4 / 255
    assert np.abs(data - expected)[:, :10, :20].max() < 4 / 255


def test_nan_frames_are_named(tmp_path):
    import tifffile

    frames = np.ones((4, 8, 8), dtype=np.float32)
    frames[2, 3, 3:5] = np.nan
    path = tmp_path / "nan.tif"
    tifffile.imwrite(path, frames, imagej=True)
    movie = open_movie(path, frame_interval_s=1.0)
    assert_array_equal(movie.read(0, 2), 1.0)  # the frames before it read as stored
    with pytest.raises(FileFormatError, match=r"nan.tif: frame 2 holds 2 NaN or infinite pixel"):
        movie.read(1, 4)


def test_rgb_float_stack_of_nan_is_refused(tmp_path):
    """An RGB float TIFF full of NaN/inf was accepted as a movie: the finiteness check now covers RGB."""
    rgb = np.full((3, 8, 9, 3), np.nan, dtype=np.float32)
    rgb[1] = np.inf
    path = tmp_path / "nan_rgb.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    with open_movie(path, frame_interval_s=1.0) as movie:
        assert movie.is_rgb
        with pytest.raises(FileFormatError, match=r"nan_rgb.tif: frame 0 holds 72 NaN or infinite pixel"):
            movie.read()


def test_an_imagej_frame_interval_of_1e308_is_refused(tmp_path, stack):
    path = tmp_path / "huge_dt.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "TYX", "finterval": 1e308})
    with pytest.raises(FileFormatError, match=r"huge_dt.tif: its frame times \(imagej-finterval\) are not finite"):
        open_movie(path)
    with open_movie(path, frame_interval_s=0.5) as movie:  # the fix the message names
        assert movie.time_s[-1] == 5.5


def test_a_video_announcing_more_frames_than_it_holds(tmp_path, monkeypatch):
    """Movie.read raised a bare IndexError past the frames a video holds."""
    iio = pytest.importorskip("imageio.v3")
    from socscope.io import movies

    path = tmp_path / "clip.gif"
    frames = np.stack([np.full((6, 6, 3), 60 * k, dtype=np.uint8) for k in range(3)])  # distinct: GIF keeps all
    try:
        iio.imwrite(path, frames, loop=0, duration=100)
    except (ImportError, OSError, ValueError) as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"imageio cannot write GIF here: {exc}")
    monkeypatch.setattr(movies, "_video_length", lambda resource, meta: 5)  # what a damaged container announces
    with movies._open_video(path, 0.1) as movie:
        with pytest.raises(FileFormatError, match=r"clip.gif: frame 3 cannot be read .*announces 5 frames"):
            movie.read()


def test_read_tiff_image_refuses_a_cut_stack(tmp_path, stack):
    """--from-image, masks and label images read a cut stack as its first page without a word."""
    from socscope.io.movies import read_tiff_image

    good = tmp_path / "good.tif"
    tifffile.imwrite(good, stack, imagej=True, metadata={"axes": "TYX"})  # tifffile alone reads its cut as one page
    assert read_tiff_image(good, "an image").shape == stack.shape
    cut = tmp_path / "cut.tif"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    with pytest.raises(FileFormatError, match=r"cut.tif: the file is truncated or corrupt .*expected an image"):
        read_tiff_image(cut, "an image")
