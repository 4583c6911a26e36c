"""UTF-8 checking of string columns: the C kernel (``_core.csv_utf8_check``) against Python's
``bytes.decode("utf-8")``, and the reader's handling of ill-formed values (a bad value: the
error names the file, line, column and value; ``skip`` drops the row), at every block size,
thread count and SIMD level."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from csv_util import assert_frames_identical, csv_api, write

from blockops import CsvParseError, _config, _core
from reference.csv_ref import STR

#: Ill-formed sequences (Unicode 15, table 3-7) and their well-formed neighbours.
BAD_SEQS = [
    b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xc2", b"\xc2\x7f", b"\xc2\xc0",
    b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xe0\xa0", b"\xe1\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf",
    b"\xef\xbf", b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80", b"\xf4\x90\x80\x80",
    b"\xf4\x8f\xbf", b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff",
    b"\xe2\x82\x28", b"\xf0\x9f\x98\x28",
]
GOOD_SEQS = [
    b"a", b"\x00", b"\x7f", b"\xc2\x80", b"\xdf\xbf", b"\xe0\xa0\x80", b"\xec\xbf\xbf",
    b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf3\xbf\xbf\xbf",
    b"\xf4\x8f\xbf\xbf", "é".encode(), "€".encode(), "😀".encode(),
]


def py_check(b: bytes) -> int:
    try:
        b.decode("utf-8")
        return -1
    except UnicodeDecodeError as e:
        return e.start


def hostile_utf8(seed: int, n: int = 3000):
    """Random byte strings of lengths 0..80: random bytes, well-formed text with one or two
    ill-formed sequences spliced in (start, middle, end, across an 8-byte word boundary), and
    well-formed text of every length around the word size."""
    r = np.random.default_rng(seed)
    out = [b"", *BAD_SEQS, *GOOD_SEQS]
    for _ in range(n):
        kind = r.integers(4)
        if kind == 0:
            out.append(r.integers(0, 256, r.integers(0, 40), dtype=np.uint8).tobytes())
            continue
        parts = [GOOD_SEQS[i] if r.random() < 0.3 else b"x" * int(r.integers(1, 9))
                 for i in r.integers(0, len(GOOD_SEQS), r.integers(0, 12))]
        s = b"".join(parts)
        if kind in (1, 2):
            for _ in range(kind):
                at = int(r.integers(0, len(s) + 1))
                s = s[:at] + BAD_SEQS[r.integers(len(BAD_SEQS))] + s[at:]
        out.append(s)
    return out


def test_utf8_check_matches_python(simd_level):
    for s in hostile_utf8(1):
        assert _core.csv_utf8_check(s, _config.simd()) == py_check(s), s
    # every offset of a bad sequence relative to 8-byte words, and truncations at the end
    for bad in BAD_SEQS:
        for pad in range(17):
            s = b"a" * pad + bad + b"b" * (pad % 5)
            assert _core.csv_utf8_check(s, _config.simd()) == py_check(s), s
    for good in GOOD_SEQS:
        for pad in range(17):
            s = b"a" * pad + good
            assert _core.csv_utf8_check(s, _config.simd()) == -1
            for cut in range(1, len(good)):
                t = b"a" * pad + good[:cut]
                assert _core.csv_utf8_check(t, _config.simd()) == py_check(t) == pad, t


def _quote(v: bytes) -> bytes:
    if any(c in v for c in b',"\r\n') or v[:1] in (b" ",):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def _file(values: list[bytes], rng) -> bytes:
    rows = [b"i,s,x"]
    for i, v in enumerate(values):
        q = _quote(v) if rng.random() < 0.8 else b'"' + v.replace(b'"', b'""') + b'"'
        rows.append(b"%d,%s,%d" % (i, q, i % 7))
    return b"\n".join(rows) + (b"\n" if rng.random() < 0.5 else b"")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reader_drops_ill_formed_values(tmp_path, simd_level, seed):
    """skip: exactly the rows whose value Python cannot decode are dropped; every other value
    comes back as the same str; same frame at every block size and thread count."""
    bio = csv_api()
    r = np.random.default_rng(seed)
    values = [v.replace(b"\r", b"").replace(b"\n", b"") for v in hostile_utf8(seed + 10, 400)]
    values = [v for v in values if v.strip(b" \t") and v not in (b"NA", b"NaN", b"nan")]
    path = write(tmp_path, _file(values, r))
    ok = [i for i, v in enumerate(values) if py_check(v) < 0]
    assert len(ok) < len(values)  # the test has bad values to drop
    want = pd.DataFrame({"s": pd.array([values[i].decode() for i in ok],
                                       dtype=STR)},
                        index=pd.Index(ok, dtype=np.int64))
    for bs in (7, 64, 300, None):
        for nt in (1, 3):
            kw = {} if bs is None else {"blocksize": bs}
            df = bio.read_csv(path, columns=["s"], dtypes={"s": "str"}, on_bad_lines="skip",
                              n_threads=nt, **kw)
            assert_frames_identical(df, want, msg=f"bs={bs} nt={nt}")
            assert df.attrs["blockops_stats"]["rows_skipped"] == len(values) - len(ok)


def test_many_chunks_and_characters_split_between_values(tmp_path, simd_level):
    """Enough rows for several conversion chunks per thread (the converter checks a chunk's
    strings as one region and then only the value starts): characters split between two
    consecutive values (each ill-formed, their concatenation well-formed), quoted values with
    doubled quotes, missing values; same rows kept as Python's decoding decides, at every
    thread count and block size."""
    bio = csv_api()
    r = np.random.default_rng(7)
    pool = [v.replace(b"\r", b"").replace(b"\n", b"") for v in hostile_utf8(99, 600)]
    pool = [v for v in pool if v.strip(b" \t") and v not in (b"NA", b"NaN", b"nan")]
    values = []
    while len(values) < 9000:
        k = r.integers(10)
        if k == 0:  # one character split across two values
            ch = GOOD_SEQS[r.integers(len(GOOD_SEQS) - 4, len(GOOD_SEQS))]
            cut = int(r.integers(1, len(ch)))
            values += [b"a" + ch[:cut], ch[cut:] + b"b"]
        elif k == 1:
            values.append(b'say ""' + "é".encode() * int(r.integers(1, 4)) + b'""')
        else:
            # hostile values in the first half only: chunks of the second half are well-formed
            # as a region and ill-formed only at the split characters
            values.append(pool[r.integers(len(pool))] if r.random() < 0.2 and len(values) < 4500
                          else "ok-é-€".encode() * int(r.integers(1, 3)))
    path = write(tmp_path, _file(values, r))
    ok = [i for i, v in enumerate(values) if py_check(v) < 0]
    want = pd.DataFrame({"s": pd.array([values[i].decode() for i in ok], dtype=STR)},
                        index=pd.Index(ok, dtype=np.int64))
    for bs in (65536, None):
        for nt in (1, 2, 3):
            kw = {} if bs is None else {"blocksize": bs}
            df = bio.read_csv(path, columns=["s"], dtypes={"s": "str"}, on_bad_lines="skip",
                              n_threads=nt, **kw)
            assert_frames_identical(df, want, msg=f"bs={bs} nt={nt}")


def test_reader_error_names_line_column_value(tmp_path, simd_level):
    bio = csv_api()
    # the ill-formed value at the end of a field, of the block, inside quotes, after a
    # multi-line quoted field (line numbers count its line breaks)
    cases = [
        (b"a,s\n1,ok\n2,ab\xc3\n3,x\n", 3, "ab\\xc3"),
        (b"a,s\n1,\"multi\nline\"\n2,\"q,\xed\xa0\x80\"\n", 4, "q,\\xed\\xa0\\x80"),
        (b"a,s\n1,\xe2\x82\xac\n2,\xf4\x90\x80\x80", 3, "\\xf4\\x90\\x80\\x80"),
        (b"a,s\n1,\xc0\xaf\n", 2, "\\xc0\\xaf"),
    ]
    for data, line, value in cases:
        path = write(tmp_path, data)
        for bs in (5, None):
            for nt in (1, 2):
                kw = {} if bs is None else {"blocksize": bs}
                with pytest.raises(CsvParseError) as ei:
                    bio.read_csv(path, dtypes={"s": "str"}, n_threads=nt, **kw)
                e = ei.value
                assert (e.line, e.column, e.value) == (line, "s", value), (data, str(e))
                assert "not valid UTF-8" in str(e) and path in str(e)


def test_non_utf8_bad_number_is_a_parse_error():
    """A value that is not a number and not UTF-8 either: the parse error (it used to be a
    UnicodeDecodeError from building the message)."""
    bio = csv_api()
    with pytest.raises(CsvParseError) as ei:
        bio.read_csv(io.BytesIO(b"a\n1\n\xff2\n"), dtypes="int64")
    assert ei.value.line == 3 and ei.value.value == "\\xff2"


def test_category_and_as_arrays_keep_non_ascii(tmp_path):
    bio = csv_api()
    vals = ["é", "€uro", "😀", "plain", "ß" * 40]
    path = write(tmp_path, ("s\n" + "\n".join(vals) + "\n").encode())
    df = bio.read_csv(path, dtypes={"s": "category"}, blocksize=9)
    assert list(df["s"].astype(str)) == vals
    with bio.CsvBlockReader(path, dtypes={"s": "str"}, as_arrays=True) as rd:
        got = [x for b in rd for x in b["s"]]
    assert got == vals


@pytest.mark.parametrize("nt", [1, 3])
def test_string_lengths_around_the_vector_copy(tmp_path, simd_level, nt):
    """Values of every length 0..70 (the converter copies up to 64 bytes 16 at a time), ASCII
    and not, quoted or not, next to non-ASCII neighbours (whose bytes the wide copy reads past
    the value: they must not make a valid value bad), the last one ending the file with no
    newline: every value comes back exactly; one ill-formed value per column is the only
    dropped row."""
    bio = csv_api()
    r = np.random.default_rng(nt)
    pieces = ["a", "Z", "é", "€", "😀", " ", "_"]
    a_vals, b_vals = [], []
    for n in range(71):
        for _ in range(3):
            a_vals.append("".join(r.choice(pieces, n)).strip() or "x")
            b_vals.append(("€" * (n % 5) + "q" * n) or "-")
    rows = []
    for a, b in zip(a_vals, b_vals):
        qa = f'"{a}"' if r.random() < 0.3 else a
        rows.append(f"{qa},{b},ü")
    bad_at = len(rows) // 2
    data = ("a,b,c\n" + "\n".join(rows)).encode()
    data = data.replace(b"\n" + rows[bad_at].encode() + b"\n",
                        b"\n" + rows[bad_at].encode()[:-2] + b"\xc3\n")  # c: "ü" cut short
    path = write(tmp_path, data)
    keep = [i for i in range(len(rows)) if i != bad_at]
    want = pd.DataFrame({k: pd.array([v[i] for i in keep],
                                     dtype=STR)
                         for k, v in (("a", a_vals), ("b", b_vals))},
                        index=pd.Index(keep, dtype=np.int64))
    for bs in (None, 1000, 77):
        kw = {} if bs is None else {"blocksize": bs}
        df = bio.read_csv(path, dtypes="str", on_bad_lines="skip", n_threads=nt, **kw)
        assert_frames_identical(df[["a", "b"]], want, msg=f"bs={bs}")
        assert (df["c"] == "ü").all()


def _py_unquote(raw: bytes) -> bytes:
    """pandas' reading of a field that starts with a quote: doubled quotes are one, and what
    follows the closing quote is kept."""
    out, i = bytearray(), 1
    while i < len(raw):
        if raw[i] == 0x22:
            if i + 1 < len(raw) and raw[i + 1] == 0x22:
                out.append(0x22)
                i += 2
                continue
            return bytes(out) + raw[i + 1:]
        out.append(raw[i])
        i += 1
    return bytes(out)


@pytest.mark.parametrize("nt", [1, 3])
def test_quoted_values_around_the_vector_unquote(tmp_path, simd_level, nt):
    """Quoted values of every length 0..80 (the converter unquotes 16 bytes at a time and ORs
    them for the ASCII test), doubled quotes, multi-byte characters and a trailing part after
    the closing quote at every offset, commas and line breaks inside the quotes, and one
    ill-formed byte at a different offset in every tenth value (inside the quotes, just after
    a doubled quote, or after the closing quote): every valid value comes back exactly as the
    Python reference unquotes it, and exactly the rows with an ill-formed byte are dropped."""
    r = np.random.default_rng(40 + nt)
    pieces = [b"a", b"Z", b",", b"\n", b'""', "é".encode(), "€".encode(), "😀".encode(), b" "]
    raws, bad = [], []
    for n in range(81):
        for k in range(4):
            toks = r.choice(pieces, n).tolist() if n else []
            tail = b"" if k else r.choice([b"", b"x", "ü".encode()])
            is_bad = (n * 4 + k) % 10 == 3
            if is_bad:  # between two pieces (a doubled quote stays whole), or after the quote
                at = int(r.integers(0, len(toks) + 2))
                if at <= len(toks):
                    toks.insert(at, b"\xff")
                else:
                    tail = b"\xff" + tail
            raws.append(b'"' + b"".join(toks) + b'"' + tail)
            bad.append(is_bad)
    rows = [b"%d,%s,\xc3\xbc" % (i, raw) for i, raw in enumerate(raws)]
    data = b"i,s,c\n" + b"\n".join(rows)
    path = write(tmp_path, data)
    want_vals = [_py_unquote(raw) for raw in raws]
    assert [py_check(v) >= 0 for v in want_vals] == bad  # the reference agrees on which are bad
    keep = [i for i in range(len(raws)) if not bad[i]]
    _assert_reads_keep(path, want_vals, keep, nt, (None, 2000, 97))


def _assert_reads_keep(path, vals: list[bytes], keep: list[int], nt: int, block_sizes):
    """Read a file of rows "i,s,ü" (s: raw field i) at each block size with
    on_bad_lines="skip": s holds exactly vals[keep] (an empty value is missing, as in pandas),
    i the kept row numbers, and the other rows are the skipped ones."""
    bio = csv_api()
    want = pd.DataFrame({"s": pd.array([vals[i].decode() or None for i in keep], dtype=STR)},
                        index=pd.Index(keep, dtype=np.int64))
    for bs in block_sizes:
        kw = {} if bs is None else {"blocksize": bs}
        df = bio.read_csv(path, dtypes={"i": "int64", "s": "str", "c": "str"},
                          on_bad_lines="skip", n_threads=nt, **kw)
        assert_frames_identical(df[["s"]], want, msg=f"bs={bs}")
        assert df["i"].tolist() == keep
        assert (df["c"] == "ü").all()
        assert df.attrs["blockops_stats"]["rows_skipped"] == len(vals) - len(keep)


def test_string_runs_of_threads(tmp_path):
    """Each converting thread's run of string values is its own Arrow chunk (nothing moved to
    close the gaps that quoted and missing values leave between runs): the frame is the same
    for every thread count and block size, and a one-block read has one chunk per thread."""
    import pyarrow as pa

    bio = csv_api()
    r = np.random.default_rng(7)
    n = 9000  # several chunks of 1024 rows, so several threads' runs
    words = ["a", "bb", "é€", "x,y", 'q"q', "NA", ""]
    vals = ["".join(r.choice(words, int(r.integers(0, 6)))) for _ in range(n)]
    quoted = r.random(n) < 0.5
    field = [('"' + v.replace('"', '""') + '"') if (q or "," in v or '"' in v) else v
             for v, q in zip(vals, quoted)]
    data = ("i,s\n" + "\n".join(f"{i},{f}" for i, f in enumerate(field)) + "\n").encode()
    path = write(tmp_path, data)
    want = pd.read_csv(io.BytesIO(data), dtype={"s": "str"}, keep_default_na=True)["s"]
    base = None
    for nt in (1, 2, 3):
        for bs in (None, 50_000):
            kw = {} if bs is None else {"blocksize": bs}
            df = bio.read_csv(path, dtypes={"i": "int64", "s": "str"}, n_threads=nt, **kw)
            assert df["s"].isna().tolist() == want.isna().tolist()
            assert df["s"].dropna().tolist() == want.dropna().tolist()
            if base is None:
                base = df
            assert_frames_identical(df, base, msg=f"nt={nt} bs={bs}")
            a = df["s"].array._pa_array  # a ChunkedArray (an Array in some pandas versions)
            chunks = a.chunks if isinstance(a, pa.ChunkedArray) else [a]
            assert nt == 1 or bs is not None or len(chunks) == nt


@pytest.mark.parametrize("nt", [1, 2])
def test_utf8_checked_in_the_copy_at_every_offset(tmp_path, simd_level, nt):
    """The AVX2 string pass checks each value for UTF-8 while it copies and unquotes it, 32
    bytes at a time, the raw field with its quotes. Every sequence below at every offset 0..99
    of values up to 200 bytes, quoted and not: doubled quotes (a pair split by a 32-byte piece
    boundary drops the next piece's first byte), characters across a piece boundary, ill-formed
    bytes, a character cut by a doubled quote or by the closing quote (ill-formed in the
    value too), and one joined by the closing quote to text after it (well-formed in the value
    though not in the field). Each value comes back as Python unquotes it, and exactly the rows
    Python cannot decode are dropped, at every level, block size and thread count."""
    middles = [b'""', b'""""', "é".encode(), "€".encode(), "😀".encode(), b"\xff",
               b"\xe2\x82", b'\xc3""\xa9', b'\xe2\x82""\xac', b'""\xa9', *BAD_SEQS[:6],
               *GOOD_SEQS[-4:]]
    raws = []
    for k in range(100):
        for j, mid in enumerate(middles):
            tail = b"z" * ((k * 7 + j) % 90)
            body = b"a" * k + mid + tail
            if b'"' in mid or (k + j) % 2:
                raws.append(b'"' + body + b'"')
            else:
                raws.append(body)
        # closing quote inside: the value is the quoted part and the text after it
        raws.append(b'"' + b"b" * k + b'\xc3"\xa9')
        raws.append(b'"' + b"b" * k + b'\xc3"\xa9x\xff')
    vals = [_py_unquote(r) if r[:1] == b'"' else r for r in raws]
    rows = [b"%d,%s,\xc3\xbc" % (i, raw) for i, raw in enumerate(raws)]
    path = write(tmp_path, b"i,s,c\n" + b"\n".join(rows) + b"\n")
    keep = [i for i, v in enumerate(vals) if py_check(v) < 0]
    assert 0 < len(keep) < len(vals)
    _assert_reads_keep(path, vals, keep, nt, (None, 4096, 301))


def test_utf8_one_bad_value_per_chunk(tmp_path, simd_level):
    """The same ill-formed sequences, each alone among more than a chunk's rows (1,024) of
    well-formed non-ASCII values: no other value of its chunk sends the chunk to the second
    check (check_utf8_chunk), so the in-copy check alone must catch it, at every offset around
    the 32-byte pieces, quoted and not."""
    bio = csv_api()
    bads = [b"\xff", b"\xe2\x82", b'\xc3""\xa9', b'\xe2\x82""\xac', b'""\xa9', *BAD_SEQS[:6]]
    fill = ['"ok-é, €"'.encode(), "plain-ü".encode()]
    rows, bad_rows = [], []
    for k in (0, 1, 2, 29, 30, 31, 32, 33, 61, 62, 63, 64, 65, 90):
        for j, mid in enumerate(bads):
            rows += fill * 520
            body = b"a" * k + mid + b"z" * ((k + j) % 40)
            quoted = b'"' in mid or j % 2
            bad_rows.append(len(rows))
            rows.append(b'"' + body + b'"' if quoted else body)
    rows += fill * 520
    path = write(tmp_path, b"s\n" + b"\n".join(rows) + b"\n")
    keep = [i for i in range(len(rows)) if i not in set(bad_rows)]
    for nt in (1, 2):
        df = bio.read_csv(path, dtypes={"s": "str"}, on_bad_lines="skip", n_threads=nt)
        assert df.index.tolist() == keep, f"nt={nt}"
        assert set(df["s"]) == {"ok-é, €", "plain-ü"}
