"""The run-folder protocol: a folder holds a complete result if and only if it holds ``run.nc``.

:func:`claim_folder` creates the folder's ``INCOMPLETE`` marker exclusively;
files are written whole to a hidden temporary file beside their place, flushed to
disk, and renamed into place (:func:`save_atomic`, :func:`write_text_atomic`);
:func:`write_netcdf_tmp` + :func:`publish` put ``run.nc`` in place without ever
replacing an existing one; :func:`finish_folder` removes the marker. A crash or an
interrupt part-way leaves at most a hidden ``.tmp`` file (removed when the process
can still clean up), never a file that looks whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from ..settings.schema import ConfigError

#: Marker file in a run folder while the run is unfinished; left behind (with the
#: reason) by an interrupted or failed run.
INCOMPLETE = "INCOMPLETE"
#: The file whose presence means "this folder holds a complete run".
RESULT = "run.nc"


class RunFolderTaken(ConfigError):
    """The folder already holds a run (finished or not): results are never overwritten."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def tmp_beside(path: Path, suffix: str = "") -> Path:
    """A new hidden temporary file in ``path``'s folder, readable as an ordinary file would be
    (``suffix`` after ``.tmp``, for writers that pick a format from it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
    return Path(tmp)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(tmp: str | os.PathLike, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Move the finished file ``tmp`` to ``path`` in one atomic step.

    With ``overwrite=False`` an existing ``path`` is never replaced: the file is
    hard-linked into place (which fails if ``path`` exists) and
    :class:`RunFolderTaken` is raised; ``tmp`` is removed either way.
    """
    tmp, path = Path(tmp), Path(path)
    try:
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise RunFolderTaken(f"{path} already exists: results are never overwritten") from None
            except OSError:  # no hard links on this file system: check, then rename
                if path.exists():
                    raise RunFolderTaken(f"{path} already exists: results are never overwritten") from None
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return path


#: Variables of at least this many bytes are compressed (zlib, shuffle). Below it compression costs
#: more time than it saves room: HDF5's chunk index outweighs the gain (a 120-step, 4-firm run grew
#: by a quarter at 4 KiB), and a 120-step run's ~50 variables took longer to write compressed than
#: the run itself took (benchmarks/sweep_results.md). From 64 KiB: a (step, firm) variable of about
#: 1,600 steps and 5 firms.
COMPRESS_FROM = 64 * 1024


#: Encoding keys of a variable that say how it is stored (kept when the compression is set).
_STORAGE = ("dtype", "_FillValue", "units", "calendar")
_INT32 = np.iinfo(np.int32)


def _fits_int32(var: xr.Variable) -> bool:
    values = np.asarray(var.values)
    if values.size == 0:
        return True
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    return finite.size == 0 or (_INT32.min < finite.min() and finite.max() <= _INT32.max)


def _is_text(var: xr.Variable) -> bool:
    if var.dtype.kind in "US":
        return True
    return var.dtype.kind == "O" and var.size > 0 and isinstance(np.asarray(var.values).flat[0], str)


def netcdf_encoding(ds: xr.Dataset) -> dict[str, dict]:
    """How each variable of ``ds`` is stored in a netCDF file (CF-1.8 types, which the CF checker reads):

    * integers (and integers masked as float, with their ``_FillValue``) as 32-bit integers
      where every value fits, else 64-bit (a seed above 2**31);
    * strings as character arrays (``S1``; xarray reads them back as strings), not
      variable-length strings, which CF-1.8 tools cannot read;
    * variables of at least :data:`COMPRESS_FROM` bytes compressed.

    Readers of this package widen the 32-bit integers back to int64 (:func:`widened`).
    """
    out: dict[str, dict] = {}
    for name, var in ds.variables.items():
        enc = {k: var.encoding[k] for k in _STORAGE if k in var.encoding}
        integer = var.dtype.kind in "iu" or (var.dtype.kind == "f" and str(enc.get("dtype", "")).startswith("int"))
        if integer:
            enc["dtype"] = "int32" if _fits_int32(var) else "int64"
        elif _is_text(var):
            enc["dtype"] = "S1"
        if name in ds.data_vars and var.nbytes >= COMPRESS_FROM and var.dtype.kind in "fiu":
            enc.update(zlib=True, complevel=4, shuffle=True)
        if enc:
            out[str(name)] = enc
    return out


def widened(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` as read from a file written here, with its 32-bit integers as int64 again (the
    Datasets in memory hold int64); masked integers (float64 with NaN) stay as they are."""
    narrow = [name for name, var in ds.variables.items() if var.dtype == np.int32]
    if not narrow:
        return ds
    out = ds.copy()
    for name in narrow:
        wide = ds[name].astype(np.int64)
        wide.encoding = dict(ds[name].encoding)
        if name in ds.coords:
            out = out.assign_coords({name: wide})
        else:
            out[name] = wide
    return out


#: The netCDF-3 format of the run files that fit it (:func:`classic_fits`): 64-bit offsets, CDF-2.
CLASSIC = "NETCDF3_64BIT"
_INT32_ATTR = (np.iinfo(np.int32).min, np.iinfo(np.int32).max)


def _classic_attr(value) -> bool:
    """True if the attribute ``value`` has a netCDF-3 type: text, floats, integers of 32 bits."""
    if isinstance(value, (str, bytes, float, np.floating)):
        return True
    values = np.asarray(value)
    if values.dtype.kind == "f":
        return True
    if values.dtype.kind in "iu" and values.dtype.itemsize <= 8:
        return values.size == 0 or (_INT32_ATTR[0] <= values.min() and values.max() <= _INT32_ATTR[1])
    return False


def classic_fits(ds: xr.Dataset, encoding: dict[str, dict]) -> bool:
    """True if ``ds`` stored with ``encoding`` (:func:`netcdf_encoding`) needs nothing of netCDF-4: no
    variable is compressed, no integer needs 64 bits, every attribute is text, a float or a 32-bit
    integer. Such a file (a run of a few hundred steps) is written as netCDF-3 (:data:`CLASSIC`)."""
    for name, var in ds.variables.items():
        enc = encoding.get(str(name), {})
        if enc.get("zlib") or str(enc.get("dtype", var.dtype)) in ("int64", "uint64", "uint32", "uint16"):
            return False
        if var.dtype.kind in "iu" and "dtype" not in enc and var.dtype.itemsize > 4:
            return False
        if not all(_classic_attr(v) for v in var.attrs.values()):
            return False
    return all(_classic_attr(v) for v in ds.attrs.values())


def netcdf_engine(path: str | os.PathLike) -> str:
    """The xarray engine that reads a netCDF file written here: ``netcdf4`` for a netCDF-3 file
    (:func:`classic_fits`), ``h5netcdf`` for a netCDF-4 (HDF5) one."""
    with open(path, "rb") as fh:
        return "netcdf4" if fh.read(3) == b"CDF" else "h5netcdf"


def netcdf_bytes(ds: xr.Dataset, classic: bool = True) -> memoryview:
    """``ds`` as the bytes of a netCDF file (see :func:`write_netcdf_tmp`)."""
    encoding = netcdf_encoding(ds)
    if classic and classic_fits(ds, encoding):
        return ds.to_netcdf(None, engine="scipy", format=CLASSIC, encoding=encoding)
    return ds.to_netcdf(None, engine="netcdf4", encoding=encoding)


def write_netcdf_tmp(ds: xr.Dataset, path: str | os.PathLike, classic: bool = True) -> Path:
    """Write ``ds`` completely to a hidden temporary file beside ``path`` (flushed to disk).

    The netCDF bytes are made in memory and written with plain file I/O: a full disk is
    then an ordinary ``OSError`` (HDF5 writing straight to a full disk left a half-closed
    file whose finaliser crashed the interpreter at exit). Large variables are compressed
    (:func:`netcdf_encoding`). A Dataset that fits netCDF-3 (:func:`classic_fits`: nothing to
    compress, no 64-bit integer; ``classic=False`` never) is written in that format by
    SciPy's writer: a run of 120 steps takes 14 ms there, against 78 ms as netCDF-4 through
    the netCDF-C library (which spends about 1.5 ms on each of its ~55 variables) and 540 ms
    through h5netcdf, and is read back 6 times faster (the sweep's merge reads every job's).
    Otherwise it is netCDF-4, written by netCDF-C (engine ``netcdf4``). Either is CF-1.8 and
    read by every netCDF reader (:func:`netcdf_engine`).
    """
    tmp = tmp_beside(Path(path))
    try:
        data = netcdf_bytes(ds, classic)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(ds: xr.Dataset, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write ``ds`` as netCDF to a temporary file beside ``path``, then rename into place.

    A crash or interrupt part-way leaves at most a hidden ``.tmp`` file (removed when
    the process can still clean up), never a ``run.nc`` that looks whole. With
    ``overwrite=False`` an existing ``path`` is kept and :class:`RunFolderTaken` raised.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise RunFolderTaken(f"{path} already exists: results are never overwritten")
    return publish(write_netcdf_tmp(ds, path), path, overwrite=overwrite)


def save_atomic(write: Callable[[Path], object], path: str | os.PathLike, suffix: str = "") -> Path:
    """Write a file with ``write(tmp)`` to a hidden temporary file beside ``path``, then rename it
    into place (an existing file of that name is replaced whole, never left half-written)."""
    path = Path(path)
    tmp = tmp_beside(path, suffix)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    return save_atomic(lambda tmp: tmp.write_text(text), path)


def claim_folder(folder: str | os.PathLike, note: str = "") -> Path:
    """Claim ``folder`` for a new run: create it and its ``INCOMPLETE`` marker exclusively.

    Raises :class:`RunFolderTaken` if the folder already holds ``run.nc`` or an
    ``INCOMPLETE`` marker (a finished, running, interrupted or failed run). The
    marker stays until :func:`finish_folder` removes it after ``run.nc`` is in place.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hint = "choose another folder (hydra.run.dir=...) or remove it"
    if (folder / RESULT).exists():
        raise RunFolderTaken(f"{folder} already holds a finished run ({RESULT}): results are never "
                             f"overwritten; {hint}")
    try:
        fd = os.open(folder / INCOMPLETE, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise RunFolderTaken(f"{folder} already holds an unfinished run ({INCOMPLETE}): {hint}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(f"This run has not finished (or was killed): no {RESULT} yet.\n{note}")
    return folder


def _reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENOTDIR or (isinstance(exc, FileExistsError) and Path(exc.filename or "").is_file()):
        return "a part of the path is a file, not a folder"
    return exc.strerror or type(exc).__name__


def claim_new_folder(path: str | os.PathLike, key: str, *, suffix: bool, note: str | None = None) -> Path:
    """Claim a new output folder before anything is written into it; return it.

    With ``suffix`` (a default, timestamped name) the folder is ``path``, else
    ``path_2``, ``path_3``...: the first that this call creates itself (``mkdir`` is
    atomic, so two runs started in the same second get two folders). Without it (a folder
    the user named) it is ``path``, new or empty; one holding anything is refused
    (:class:`RunFolderTaken`). With a ``note`` the folder's ``INCOMPLETE`` marker is
    created exclusively too (the claim of a run folder, :func:`claim_folder`); the run
    then finds it claimed. A folder that cannot be created (no permission, a read-only
    file system, a parent that is a file) raises :class:`ConfigError` naming ``key``.
    """
    path = Path(path)
    hint = f"choose another folder ({key}=...)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        k = 1
        while True:
            folder = path if k == 1 else Path(f"{path}_{k}")
            try:
                folder.mkdir()
                break
            except FileExistsError:
                if folder.is_dir() and not suffix:
                    if any(folder.iterdir()):
                        raise RunFolderTaken(f"{key} = {str(folder)!r} already holds files (an earlier run?): "
                                             f"results are never overwritten; {hint} or remove it") from None
                    break
                if not suffix:
                    raise
                k += 1
        if note is not None:
            try:
                claim_folder(folder, note)
            except RunFolderTaken:  # another run claimed the same (empty) folder a moment earlier
                raise RunFolderTaken(f"{key} = {str(folder)!r} was just claimed by another run: results are never "
                                     f"overwritten; {hint}") from None
        elif not os.access(folder, os.W_OK):  # an existing empty folder: mkdir checked nothing
            raise PermissionError(13, "Permission denied", str(folder))
    except OSError as exc:
        raise ConfigError(f"{key} = {str(path)!r}: the folder cannot be created ({_reason(exc)}); {hint}") from None
    return folder


def mark_incomplete(folder: str | os.PathLike, reason: str) -> Path:
    """Rewrite the folder's ``INCOMPLETE`` marker with why the run stopped."""
    text = (f"This run did not finish: {reason}.\n"
            f"No {RESULT} was written; nothing in this folder is a complete result.\n")
    return write_text_atomic(text, Path(folder) / INCOMPLETE)


def finish_folder(folder: str | os.PathLike) -> None:
    """Remove the ``INCOMPLETE`` marker of a run whose ``run.nc`` is in place.

    Not flushed to disk: :func:`publish` has made ``run.nc`` durable, and a folder holding
    ``run.nc`` holds a complete run whatever else it holds (a marker back after a crash
    included, :func:`sim.results.sweepfolder.job_state`), so the flush (a few milliseconds of a
    sweep job's time) would guard nothing."""
    folder = Path(folder)
    if not (folder / RESULT).exists():
        raise RuntimeError(f"{folder}: {RESULT} is missing; the run is not finished")
    (folder / INCOMPLETE).unlink(missing_ok=True)


