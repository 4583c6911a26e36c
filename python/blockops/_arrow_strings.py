"""Arrow large_string buffers of a string column, for the C string converters (internal).

:func:`string_buffers` turns a pandas Series / Index / array, a pyarrow Array or ChunkedArray or
a NumPy ``str`` / ``object`` array into the four things ``blockops._core.v2x_parse_*`` read::

    offsets, data, valid_bits, bit_offset = string_buffers(values)
    # value i is data[offsets[i]:offsets[i + 1]] (UTF-8); it is null when valid_bits is not
    # None and bit (bit_offset + i) of valid_bits (LSB first) is 0

``offsets`` has ``n + 1`` int64 entries and starts at the array's logical offset (it is a view of
the Arrow offsets buffer, not rebased to 0); ``data`` is the whole data buffer as uint8;
``valid_bits`` is the whole validity bitmap (or None when nothing is null) and ``bit_offset`` the
array's offset into it. Arrays that already are large_string (pandas' ``str`` dtype with pyarrow
storage) are not copied; ``string`` is cast with the data buffer shared; chunked arrays with more
than one chunk are concatenated (one copy).

Nulls are None, NaN, ``pd.NA`` and ``NaT`` (whatever :func:`pandas.isna` calls missing). Any other
non-``str`` value (an int in an object column, bytes) is a :class:`TypeError` that names its
position: numbers would need a formatting rule, and guessing one is how IDs get corrupted.
"""
from __future__ import annotations

import numpy as np

__all__ = ["string_buffers"]


def _pa():
    import pyarrow as pa

    return pa


def _readonly(a: np.ndarray) -> np.ndarray:
    # views of Arrow buffers that pandas or the caller own: nobody should write through them
    if not a.flags.owndata:
        a.flags.writeable = False
    return a


def _first_non_string(values: np.ndarray, nulls: np.ndarray) -> int:
    for i in np.flatnonzero(~nulls):
        if not isinstance(values[i], str):
            return int(i)
    return -1


def _from_numpy(values: np.ndarray):
    pa = _pa()
    if values.ndim != 1:
        raise ValueError(f"string_buffers: expected a 1-D array, got {values.ndim} dimensions")
    kind = values.dtype.kind
    if kind == "U":
        try:
            return pa.array(values, type=pa.large_string())
        except pa.ArrowNotImplementedError:  # pyarrow <= 16 converts numpy str only to string
            return pa.array(values, type=pa.string()).cast(pa.large_string())
    if kind == "T":  # numpy StringDType: its missing values (na_object) become nulls
        values = values.astype(object)
        kind = "O"
    if kind != "O":
        raise TypeError(
            f"string_buffers: expected strings, got an array of dtype {values.dtype} "
            "(convert explicitly, e.g. with .astype(str), if that is what you mean)")
    import pandas as pd

    nulls = np.asarray(pd.isna(values), dtype=bool)
    if len(values) and not nulls.all():
        inferred = pd.api.types.infer_dtype(values[~nulls] if nulls.any() else values,
                                            skipna=False)
        if inferred != "string":
            i = _first_non_string(values, nulls)
            if i >= 0:
                v = values[i]
                raise TypeError(
                    f"string_buffers: value at position {i} is not a string: "
                    f"{type(v).__name__} {v!r:.60}")
    return pa.array(values, type=pa.large_string(), mask=nulls if nulls.any() else None,
                    from_pandas=True)


def _from_pandas(values):
    import pandas as pd

    pa = _pa()
    arr = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    dtype = arr.dtype
    if isinstance(dtype, (pd.StringDtype, pd.ArrowDtype, pd.CategoricalDtype)):
        # pandas hands over its Arrow data (or builds it from Python strings) itself
        return pa.array(arr)
    return _from_numpy(np.asarray(arr, dtype=object) if dtype.kind == "O"
                       else np.asarray(arr))


def _is_string_view(t) -> bool:
    is_view = getattr(_pa().types, "is_string_view", None)  # pyarrow < 16 has no string_view
    return is_view is not None and is_view(t)


def _to_large_string(arr):
    pa = _pa()
    if isinstance(arr, pa.ChunkedArray):
        t = arr.type
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        if len(arr) == 0 and arr.type != t:  # combine_chunks of 0 chunks
            arr = pa.array([], type=t)
    t = arr.type
    if pa.types.is_dictionary(t):
        if not (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)
                or _is_string_view(t.value_type)):
            raise TypeError(f"string_buffers: expected strings, got Arrow type {t}")
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_large_string(t):
        return arr
    if pa.types.is_string(t) or _is_string_view(t) or pa.types.is_null(t):
        return arr.cast(pa.large_string())
    raise TypeError(f"string_buffers: expected strings, got Arrow type {t}")


def string_buffers(values):
    """``(offsets, data, valid_bits, bit_offset)`` of a string column (see the module docstring).

    Parameters
    ----------
    values : pandas.Series, pandas.Index, pandas array, pyarrow.Array, pyarrow.ChunkedArray or
        numpy.ndarray of ``str`` / ``object``
        The strings. Missing values (None, NaN, ``pd.NA``, ``NaT``) become nulls.

    Returns
    -------
    offsets : numpy.ndarray of int64, shape (n + 1,)
    data : numpy.ndarray of uint8
    valid_bits : numpy.ndarray of uint8 or None
        Arrow validity bitmap (LSB bit order, 1 = valid); None when there is no null.
    bit_offset : int
        Bit of ``valid_bits`` that belongs to row 0.

    Raises
    ------
    TypeError
        A value is neither a string nor missing (its position is in the message), or the
        input's type holds no strings.

    The returned arrays are read-only views of Arrow buffers where possible; they keep those
    buffers alive.
    """
    pa = _pa()
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(values, np.ndarray):
        arr = _from_numpy(values)
    else:
        import pandas as pd

        if isinstance(values, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
            arr = _from_pandas(values)
        else:
            raise TypeError(
                "string_buffers: expected a pandas Series/Index/array, a pyarrow Array/"
                f"ChunkedArray or a numpy array, got {type(values).__name__}")
    arr = _to_large_string(arr)

    n, off = len(arr), arr.offset
    validity, offsets_buf, data_buf = arr.buffers()
    if offsets_buf is None or n == 0:
        offsets = np.zeros(1, dtype=np.int64)
        if offsets_buf is not None and offsets_buf.size >= 8 * (off + 1):
            offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=1, offset=8 * off)
    else:
        offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=n + 1, offset=8 * off)
    data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
            else np.empty(0, dtype=np.uint8))
    if arr.null_count == 0 or validity is None:
        return _readonly(offsets), _readonly(data), None, 0
    return _readonly(offsets), _readonly(data), _readonly(np.frombuffer(validity, np.uint8)), off
