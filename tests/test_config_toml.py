"""lob.config.toml: line numbers for every key, TOML errors, writing TOML."""
import math
import tomllib
from datetime import date, datetime

import pytest
from hypothesis import given, settings, strategies as st

from lob.config import ConfigError, dumps, load_toml, loads_toml
from lob.config.toml import scan_lines

TEXT = '''\
# comment with [brackets] and = signs
title = "x # not a comment"   # a comment
"quoted key" = 1
'lit.key' = 2
a.b.c = 3
  indented = 'single # quote'

[server]
host = "h"
ports = [
  80,    # http
  443,
  [1, 2],
]
inline = { x = 1, y = { z = 2 }, "q k" = 3 }
text = """
[not.a.table]
x = 1
"""
lit = \'\'\'
[[nor.this]]
\'\'\'

[server.sub]
k = true

[[fruits]]
name = "apple"

[fruits.physical]
color = "red"

[[fruits.varieties]]
name = "red delicious"

[[fruits.varieties]]
name = "granny smith"

[[fruits]]
name = "banana"
when = 1979-05-27 07:32:00
list = [ { a = 1 },
         { a = 2, b = [3, 4] } ]

[ "odd table" . 'x' ]
v = 1
[deep.dotted]
e.f = 1
e.g = 2
'''


def lines_of(needle, nth=0):
    hits = [i for i, ln in enumerate(TEXT.splitlines(), 1) if needle in ln]
    return hits[nth]


def test_scanner_lines():
    lines, inline = scan_lines(TEXT)
    expect = {
        ("title",): lines_of("title ="),
        ("quoted key",): lines_of('"quoted key"'),
        ("lit.key",): lines_of("'lit.key'"),
        ("a",): lines_of("a.b.c"),
        ("a", "b", "c"): lines_of("a.b.c"),
        ("indented",): lines_of("indented ="),
        ("server",): lines_of("[server]"),
        ("server", "ports"): lines_of("ports ="),
        ("server", "ports", 0): lines_of("80,"),
        ("server", "ports", 1): lines_of("443,"),
        ("server", "ports", 2): lines_of("[1, 2],"),
        ("server", "ports", 2, 1): lines_of("[1, 2],"),
        ("server", "inline", "y", "z"): lines_of("inline ="),
        ("server", "inline", "q k"): lines_of("inline ="),
        ("server", "text"): lines_of('text = """'),
        ("server", "lit"): lines_of("lit = '''"),
        ("server", "sub"): lines_of("[server.sub]"),
        ("server", "sub", "k"): lines_of("k = true"),
        ("fruits",): lines_of("[[fruits]]"),
        ("fruits", 0): lines_of("[[fruits]]", 0),
        ("fruits", 0, "name"): lines_of('name = "apple"'),
        ("fruits", 0, "physical", "color"): lines_of('color = "red"'),
        ("fruits", 0, "varieties", 0, "name"): lines_of("red delicious"),
        ("fruits", 0, "varieties", 1): lines_of("[[fruits.varieties]]", 1),
        ("fruits", 0, "varieties", 1, "name"): lines_of("granny smith"),
        ("fruits", 1): lines_of("[[fruits]]", 1),
        ("fruits", 1, "name"): lines_of("banana"),
        ("fruits", 1, "when"): lines_of("when ="),
        ("fruits", 1, "list", 0, "a"): lines_of("list ="),
        ("fruits", 1, "list", 1, "b", 1): lines_of("{ a = 2"),
        ("odd table", "x", "v"): lines_of("v = 1"),
        ("deep", "dotted", "e"): lines_of("e.f"),
        ("deep", "dotted", "e", "g"): lines_of("e.g"),
    }
    for path, line in expect.items():
        assert lines.get(path) == line, (path, lines.get(path), line)
    assert ("not", "a", "table") not in lines and ("nor",) not in lines
    assert ("server", "inline") in inline and ("server", "inline", "y") in inline
    assert ("fruits", 1, "list", 0) in inline and ("server",) not in inline
    # every key tomllib sees has a line
    data = tomllib.loads(TEXT)

    def walk(v, p):
        yield p
        if isinstance(v, dict):
            for k, x in v.items():
                yield from walk(x, p + (k,))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from walk(x, p + (i,))
    missing = [p for p in walk(data, ()) if p and p not in lines]
    assert missing == []


def test_crlf_and_no_trailing_newline():
    text = "a = 1\r\n[t]\r\nb = 2\r\nc = [1,\r\n 2]"
    lines, _ = scan_lines(text)
    assert lines[("a",)] == 1 and lines[("t", "b")] == 3 and lines[("t", "c", 1)] == 5


def test_malformed_toml_cites_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text('a = 1\n[t]\nb = = 2\n')
    with pytest.raises(ConfigError) as ei:
        load_toml(tmp_path / "bad.toml")
    assert str(ei.value).startswith("bad.toml:3: invalid TOML: ")
    assert "(at line 3, column" in str(ei.value)
    with pytest.raises(ConfigError, match=r"^x.toml:2: invalid TOML: .*line 2"):
        loads_toml("a = 1\na = 2\n", "x.toml")
    with pytest.raises(ConfigError, match=r"^x.toml:2: invalid TOML: "):
        loads_toml('a = 1\ns = "unterminated\n', "x.toml")
    with pytest.raises(ConfigError, match=r"^file not found: nope.toml$"):
        load_toml("nope.toml")
    (tmp_path / "latin.toml").write_bytes(b'a = 1\ns = "\xe9"\n')
    with pytest.raises(ConfigError, match=r"^latin.toml:2: invalid TOML: not UTF-8"):
        load_toml("latin.toml")


def test_document_locations(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text("[a]\nx = 1\n[[b]]\ny = 2\n")
    doc = load_toml("s.toml")
    assert doc.files == ("s.toml",)
    assert doc.locate("a.x") == ("s.toml", 2)
    assert doc.locate("b[0].y") == ("s.toml", 4)
    assert doc.locate("a.missing") == ("s.toml", 1)      # nearest ancestor
    assert doc.locate("zzz") == ("s.toml", None)


def test_dumps_round_trip():
    d = {
        "name": "x \"q\" \\ \u00e9 \x7f", "n": 3, "f": 1e-5, "big": 1e300, "inf": math.inf, "neg": -0.5,
        "flag": False, "when": datetime(2025, 10, 10, 21, 0), "day": date(2025, 10, 10),
        "none": None, "xs": [1, 2, 3], "empty": {}, "odd key": 1,
        "venues": {"binance": {"fee": 1.0, "latency": {"dist": "lognormal", "median": 2e6, "sigma": 0.4}},
                   "a.b": {"deep": {"deeper": {"k": [1.5, 2.5]}, "z": "y" * 100}}},
        "books": [{"venue": "binance", "sub": {"k": 1, "long": "z" * 100}}, {"venue": "okx"}],
        "matrix": [[1, 2], [3]], "mixed_tables": [{"a": 1}, {"b": [{"c": 1}]}],
    }
    text = dumps(d)
    back = tomllib.loads(text)
    d.pop("none")
    assert back == d
    assert "[[books]]" in text and "[venues.binance]" in text


_keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6)
_scalars = st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False), st.booleans(),
                     st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=5))
def test_dumps_and_scanner_on_random_documents(d):
    text = dumps(d)
    assert tomllib.loads(text) == d
    lines, _ = scan_lines(text)

    def walk(v, p):
        yield p
        if isinstance(v, dict):
            for k, x in v.items():
                yield from walk(x, p + (k,))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from walk(x, p + (i,))
    n = text.count("\n") + 1
    for p in walk(d, ()):
        if p:
            assert p in lines, (p, text)
            assert 1 <= lines[p] <= n
