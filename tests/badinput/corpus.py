"""The bad-input corpus, generated into a folder by the tests (no shipped data).

Every kind of input the product reads (a note, a gold file, workspace CSV/JSONL, the code-set files, a
preferences pack, a public key, a model file) gets: a good content in every Unicode encoding a Windows
or Mac tool writes (UTF-8/16/32, with and without a byte-order mark; decoded, not refused), and the same
hostile files (empty, binary, invalid UTF-8, NUL bytes, a folder, a FIFO, a link to /dev/zero, deeply
nested JSON, a huge line), plus malformed and truncated files of its own format.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

NOTE = ("Assessment:\n1. Type 2 diabetes mellitus with hyperglycemia.\n2. Essential hypertension.\n"
        "3. Fever and cough.\n")
ENCODINGS = {  # variant -> (codec, byte-order mark written first)
    "utf8_bom": ("utf-8", b"\xef\xbb\xbf"),
    "utf16le_bom": ("utf-16-le", b"\xff\xfe"), "utf16le": ("utf-16-le", b""),
    "utf16be_bom": ("utf-16-be", b"\xfe\xff"), "utf16be": ("utf-16-be", b""),
    "utf32le_bom": ("utf-32-le", b"\xff\xfe\x00\x00"), "utf32le": ("utf-32-le", b""),
    "utf32be_bom": ("utf-32-be", b"\x00\x00\xfe\xff"), "utf32be": ("utf-32-be", b""),
}
HOSTILE = ("empty", "binary", "invalid_utf8", "nul_bytes", "directory", "fifo", "devzero", "deep_json",
           "huge_line", "missing")


def hcpcs_record(code: str, seq: int, desc: str) -> str:
    """A CMS alpha-numeric HCPCS first record (320 columns): code, sequence, record id 3, long and short
    descriptions, date added (269-276), action effective date (277-284) and action code (293)."""
    line = f"{code:<5}{seq:05d}3{desc[:80]:<80}{desc[:28]:<28}"
    line = line.ljust(268) + "20200101" + "20200101" + " " * 8 + "N"
    return line.ljust(320)


HCPCS = "".join(hcpcs_record(c, 100 * (i + 1), d) + "\r\n" for i, (c, d) in enumerate(
    [("A0021", "Ambulance service, outside state per mile, transport"), ("A0080", "Non-emergency transportation"),
     ("A0090", "Non-emergency transportation, per mile")]))
INDEX_XML = ('<?xml version="1.0" encoding="utf-8"?>\n<ICD10CM.index>\n<version>2026</version>\n'
             "<title>ICD-10-CM INDEX TO DISEASES and INJURIES</title>\n<letter><title>Z</title>\n"
             "<mainTerm><title>Zzzfever</title><code>R50.9</code></mainTerm>\n</letter>\n</ICD10CM.index>\n")

# kind -> good content (text)
GOOD = {
    "note": NOTE,
    "gold": json.dumps({"id": "g1", "text": NOTE, "codes": ["E11.65", "I10"]}) + "\n",
    "csv": "id,text\nw1," + json.dumps(NOTE) + "\n",
    "jsonl": json.dumps({"id": "w1", "text": NOTE}) + "\n",
    "cpt": "code,description\n99213,Office or other outpatient visit\n",
    "hcpcs": HCPCS,
    "index": INDEX_XML,
    "pack": json.dumps({"format": "medcoder-preferences-pack", "schema_version": 2, "payload": {}}),
    "key": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
           "-----END PUBLIC KEY-----\n",
    "gguf": "not a model",
}

# kind -> {name: bytes} of malformed or truncated files of that format
def malformed() -> dict[str, dict[str, bytes]]:
    hcpcs = HCPCS.encode("ascii")
    lines = HCPCS.split("\r\n")
    return {
        "note": {"too_long": ("Hypertension. " * 20_000).encode()},  # 280,000 characters, under 1 MB
        "gold": {"truncated": GOOD["gold"].encode()[:-20], "wrong_types": b'{"id": 1, "text": 2, "codes": "E11"}\n',
                 "not_objects": b"[1, 2, 3]\n"},
        "csv": {"unclosed_quote": ("id,text\nw1,\"" + NOTE + "\nw2,second note\n").encode(),
                "no_header": NOTE.encode(), "text_after_quote": b'id,text\nw1,"abc"def\n'},
        "jsonl": {"truncated": GOOD["jsonl"].encode()[:-15]},
        "cpt": {"unclosed_quote": b'code,description\n99213,"Office visit\n',
                "no_header": b"99213,Office visit\n", "bad_code": b"code,description\nABCDE,Visit\n"},
        "hcpcs": {"cut_mid_record": hcpcs[: len(hcpcs) // 2], "short_record": ("\r\n".join(
            [lines[0][:150], *lines[1:]])).encode("ascii"), "garbled": b"HCPCS 2020\r\nA0021xx\r\n"},
        "index": {"truncated": INDEX_XML.encode()[:-40],
                  "entities": b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<ICD10CM.index>&a;'
                              b"</ICD10CM.index>\n"},
        "pack": {"truncated": b'{"format": "medcoder-preferences-pack", "schema_version": 2, "payload": {"metad'},
        "key": {"truncated": GOOD["key"].encode()[:40]},
        "gguf": {"truncated": b"GGUF\x03\x00\x00\x00" + b"\x00" * 16},
    }


def hostile(name: str, root: Path) -> Path:
    """One hostile input of the corpus, made under ``root``."""
    p = root / f"hostile_{name}.txt"
    if name == "empty":
        p.write_bytes(b"")
    elif name == "binary":
        p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    elif name == "invalid_utf8":
        p.write_bytes(b"Hypertension \xc3\x28 and \x80\x81 diabetes\n")
    elif name == "nul_bytes":
        p.write_bytes(b"Hypertension\x00\x00 and diabetes\n")
    elif name == "directory":
        p = root / "hostile_directory"
        p.mkdir()
    elif name == "fifo":
        p = root / "hostile_fifo"
        os.mkfifo(p)
    elif name == "devzero":
        p = root / "hostile_devzero"
        p.symlink_to("/dev/zero")
    elif name == "deep_json":
        p.write_bytes(b"[" * 200_000 + b"\n")
    elif name == "huge_line":
        p.write_bytes(b"a" * 3_000_000)  # one line of 3 MB
    elif name == "missing":
        p = root / "hostile_missing.txt"
    return p


def encoded(kind: str, variant: str, root: Path) -> Path:
    codec, bom = ENCODINGS[variant]
    suffix = {"csv": ".csv", "jsonl": ".jsonl", "gold": ".jsonl", "index": ".xml", "hcpcs": ".txt"}.get(kind, ".txt")
    # HCPCS files name their year (HCPC2020_...); the importer reads it from the name.
    p = root / f"{'HCPC2020_' if kind == 'hcpcs' else ''}{kind}_{variant}{suffix}"
    p.write_bytes(bom + GOOD[kind].encode(codec))
    return p
