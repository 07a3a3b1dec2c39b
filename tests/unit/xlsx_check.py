"""Checks of the ZIP and XLSX files the unit tests write (run by test_export and test_zip).

  xlsx_check.py zip PATH [NAME:SIZE:CRC32 ...]  a valid ZIP: zipfile reads every entry with
        its CRC (testzip), `unzip -t` agrees when installed; with NAME:SIZE:CRC32 (of the
        content that was written), exactly those entries with that content, in that order
  xlsx_check.py parts PATH SHEETS               a well-formed workbook: every XML part parses,
        content types and relationships name every part, the sheets are flows, flows_2, ...
  xlsx_check.py rows PATH R1 R2 ...             sheet k holds Rk rows numbered 1..Rk, each with
        its cells' references on the row
  xlsx_check.py cells PATH EXPECT               openpyxl reads back the values of EXPECT

EXPECT has one line per cell: "ROW COL TYPE HEX" (1-based row and column of the sheet
"flows"; TYPE null, str, u64, f64, bool, time; HEX the value's bytes: a string's raw bytes,
the number's text, 1/0, nanoseconds since 1970). Row 1 is checked as the bold header.
Prints what differs and exits 1; 0 when everything matches."""
import re
import shutil
import subprocess
import sys
import zipfile
import xml.etree.ElementTree as ET
import xml.parsers.expat
import zlib

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/package/2006/relationships"
errors = []


def err(msg):
    errors.append(msg)


def check_zip(path, want):
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
        if bad is not None:
            err("zipfile: bad CRC or data in %s" % bad)
        infos = z.infolist()
        if want:
            names = [i.filename for i in infos]
            if names != [w[0] for w in want]:
                err("entries %r, expected %r" % (names, [w[0] for w in want]))
            for name, size, crc in want:
                if name in names:
                    data = z.read(name)
                    if len(data) != int(size) or zlib.crc32(data) != int(crc):
                        err("%s: %d bytes read, not the %s written" % (name, len(data), size))
    if shutil.which("unzip"):
        r = subprocess.run(["unzip", "-t", "-q", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            err("unzip -t: exit %d: %s" % (r.returncode, r.stdout.decode(errors="replace")[-500:]))
    else:
        print("note: no unzip, zipfile checks only")


def rels_targets(z, name, base):
    out = {}
    for rel in ET.fromstring(z.read(name)).findall("{%s}Relationship" % RNS):
        out[rel.get("Id")] = (rel.get("Type").rsplit("/", 1)[-1], base + rel.get("Target"))
    return out


def check_parts(path, sheets):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        if len(set(names)) != len(names):
            err("duplicate entries")
        # What file(1) and the MIME sniffers built on libmagic look at to tell a workbook
        # from any ZIP: the first local header names a package part, one of the next
        # ones an xl/ part.
        if names[0] not in ("[Content_Types].xml", "_rels/.rels") or \
                not any(n.startswith("xl/") for n in names[1:3]):
            err("entries in an order MIME sniffers do not recognise: %r" % names[:3])
        for n in names:
            if n.endswith(".xml") or n.endswith(".rels"):
                data = z.read(n)
                try:
                    xml.parsers.expat.ParserCreate().Parse(data, True)
                except xml.parsers.expat.ExpatError as e:
                    err("%s does not parse: %s" % (n, e))
                if b"<f>" in data or b"<f " in data:
                    err("%s holds a formula" % n)
        if errors:
            return
        ct = ET.fromstring(z.read("[Content_Types].xml"))
        cns = "{http://schemas.openxmlformats.org/package/2006/content-types}"
        defaults = {d.get("Extension") for d in ct.findall(cns + "Default")}
        overrides = {o.get("PartName").lstrip("/"): o.get("ContentType")
                     for o in ct.findall(cns + "Override")}
        for n in names:
            if n != "[Content_Types].xml" and n not in overrides and n.rsplit(".", 1)[-1] not in defaults:
                err("%s has no content type" % n)
        for n in overrides:
            if n not in names:
                err("content type for missing part %s" % n)
        root = rels_targets(z, "_rels/.rels", "")
        if ("officeDocument", "xl/workbook.xml") not in root.values():
            err("_rels/.rels does not point to xl/workbook.xml")
        wb_rels = rels_targets(z, "xl/_rels/workbook.xml.rels", "xl/")
        for kind, target in wb_rels.values():
            if target not in names:
                err("workbook relationship to missing %s" % target)
        if ("styles", "xl/styles.xml") not in wb_rels.values():
            err("no styles relationship")
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
        got = []
        for s in wb.iter("{%s}sheet" % NS):
            kind, target = wb_rels.get(s.get(rid), ("?", "?"))
            got.append(s.get("name"))
            if kind != "worksheet":
                err("sheet %s: relationship %s" % (s.get("name"), kind))
            elif overrides.get(target, "").find("worksheet") < 0:
                err("sheet %s: content type %r" % (s.get("name"), overrides.get(target)))
        want = ["flows"] + ["flows_%d" % i for i in range(2, sheets + 1)]
        if got != want:
            err("sheets %r, expected %r" % (got, want))


def check_rows(path, counts):
    # Row numbers and cell references in document order: ("N", "") for <row r="N">,
    # ("", "N") for a cell of row N.
    tok = re.compile(rb'<row r="(\d+)"|<c r="[A-Z]+(\d+)"')
    with zipfile.ZipFile(path) as z:
        sheets = sorted((n for n in z.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml$", n)),
                        key=lambda n: int(re.search(r"(\d+)\.xml$", n).group(1)))
        if len(sheets) != len(counts):
            err("%d sheets, expected %d" % (len(sheets), len(counts)))
        for name, want in zip(sheets, counts):
            data = z.read(name)
            n, cells = 0, 1
            for row, ref in tok.findall(data):
                if row:
                    if not cells:
                        err("%s: row %d has no cell" % (name, n))
                        break
                    n += 1
                    cells = 0
                    if int(row) != n:
                        err("%s: row %d numbered %s" % (name, n, row.decode()))
                        break
                elif int(ref) != n:
                    err("%s: a cell of row %d refers to row %s" % (name, n, ref.decode()))
                    break
                else:
                    cells += 1
            if n and not cells:
                err("%s: row %d has no cell" % (name, n))
            if n != want or data.count(b"<row ") != want:
                err("%s: %d rows, expected %d" % (name, n, want))


def expected_text(raw):
    """What a cell must show for the string raw (bytes), independently of the C code."""
    s = raw.decode("utf-8", "surrogateescape")
    s = "".join(chr(ord(c) - 0xDC00) if 0xDC80 <= ord(c) <= 0xDCFF else c for c in s)
    s = "".join(" " if (ord(c) < 0x20 and c not in "\t\n\r") or c in "\ufffe\uffff" else c
                for c in s)
    if raw[:1] in (b"=", b"+", b"-", b"@", b"\t", b"\r"):
        s = "'" + s
    units = 0
    for i, c in enumerate(s):  # Excel's 32,767 characters (UTF-16 units) per cell
        units += 2 if ord(c) > 0xFFFF else 1
        if units > 32767:
            s = s[:i]
            break
    return s


def excel_view(stored):
    """The text Excel shows for a stored string: it decodes _xHHHH_ escapes."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), stored)


def check_cells(path, expect_file):
    import datetime
    import openpyxl
    wb = openpyxl.load_workbook(path)
    if wb.sheetnames != ["flows"]:
        err("sheets %r" % wb.sheetnames)
        return
    ws = wb["flows"]
    seen = set()
    for line in open(expect_file):
        row, col, kind, hexval = (line.split() + [""])[:4]
        row, col = int(row), int(col)
        raw = bytes.fromhex(hexval)
        c = ws.cell(row=row, column=col)
        seen.add((row, col))
        where = "%s (%s)" % (c.coordinate, kind)
        v = c.value
        if row == 1:
            if not c.font.b:
                err("%s: header not bold" % where)
        elif c.font.b:
            err("%s: data cell bold" % where)
        if c.data_type == "f" or (isinstance(v, str) and v.startswith("=")):
            err("%s: formula %r" % (where, v))
        if kind == "null":
            if v is not None:
                err("%s: %r, expected a blank cell" % (where, v))
        elif kind == "str":
            want = expected_text(raw)
            if want == "":  # an empty string is a blank cell
                if v is not None:
                    err("%s: %r, expected a blank cell for an empty string" % (where, v))
            elif not isinstance(v, str) or excel_view(v) != want:
                err("%s: %r, expected %r" % (where, v if not isinstance(v, str) or len(v) < 80
                                             else v[:40] + "..." + v[-20:], want[:80]))
        elif kind == "u64":
            if type(v) is not int or v != int(raw):
                err("%s: %r, expected the integer %s" % (where, v, raw.decode()))
        elif kind == "f64":
            if type(v) not in (int, float) or isinstance(v, bool) or v != float(raw):
                err("%s: %r, expected the number %s" % (where, v, raw.decode()))
        elif kind == "bool":
            if type(v) is not bool or v != (raw == b"1"):
                err("%s: %r, expected %s" % (where, v, raw == b"1"))
        elif kind == "time":
            us = int(raw) // 1000
            want = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
            if not isinstance(v, datetime.datetime) or abs(v - want) > datetime.timedelta(milliseconds=1):
                err("%s: %r, expected %s" % (where, v, want))
            if c.number_format != "yyyy-mm-dd hh:mm:ss.000":
                err("%s: number format %r" % (where, c.number_format))
        else:
            err("bad expectation %r" % line)
    for r in ws.iter_rows():
        for c in r:
            if c.value is not None and (c.row, c.column) not in seen:
                err("%s: unexpected value %r" % (c.coordinate, c.value))


def check_space(path):
    """Excel drops leading and trailing white space of a text not marked xml:space="preserve"."""
    space = "{http://www.w3.org/XML/1998/namespace}space"
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    for t in root.iter("{%s}t" % NS):
        text = t.text or ""
        if text != text.strip(" \t\r\n") and t.get(space) != "preserve":
            err("text %r without xml:space=\"preserve\"" % text[:40])


def check_time_values(path, expect_file):
    """The stored serial numbers themselves: within a microsecond of 25569 + s / 86400."""
    from fractions import Fraction
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    for line in open(expect_file):
        row, col, kind, hexval = (line.split() + [""])[:4]
        if kind != "time":
            continue
        ref = ""
        n = int(col)
        while n:
            n, r = divmod(n - 1, 26)
            ref = chr(65 + r) + ref
        m = re.search(r'<c r="%s%s" s="2"><v>([0-9.]+)</v>' % (ref, row), xml)
        if not m:
            err("%s%s: no date-time cell with style 2" % (ref, row))
            continue
        exact = 25569 + Fraction(int(bytes.fromhex(hexval)) // 1000, 86400 * 10**6)
        if abs(Fraction(m.group(1)) - exact) > Fraction(1, 86400 * 10**7):
            err("%s%s: serial %s, expected %s" % (ref, row, m.group(1), float(exact)))


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "zip":
        check_zip(path, [a.rsplit(":", 2) for a in sys.argv[3:]])
    elif mode == "parts":
        check_parts(path, int(sys.argv[3]))
    elif mode == "rows":
        check_rows(path, [int(a) for a in sys.argv[3:]])
    elif mode == "cells":
        check_cells(path, sys.argv[3])
        check_space(path)
        check_time_values(path, sys.argv[3])
    else:
        err("unknown mode %s" % mode)
    for e in errors[:20]:
        print("xlsx_check error: " + e)
    sys.exit(1 if errors else 0)


main()
