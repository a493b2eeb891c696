"""Parses a lowbitc --report HTML file and prints what it holds.

Fails (exit 1) when the page is not self-contained (a script, stylesheet,
image or frame, or any src/href attribute: it must open with no network)
or when a layer row lacks a numeric SQNR.
"""
import html.parser
import math
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs = {}
        self.rows = []  # one list of cell texts per layer row
        self.external = []
        self.in_row = False
        self.cell = None
        self.svg_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object", "embed"):
            self.external.append(tag)
        for k in ("src", "href"):
            if k in a:
                self.external.append("%s=%s" % (k, a[k]))
        if tag == "svg":
            self.svgs[a.get("class", "")] = self.svgs.get(a.get("class", ""), 0) + 1
            self.svg_depth += 1
        if tag == "tr" and a.get("class") == "layer":
            self.in_row = True
            self.rows.append([])
        if tag == "td" and self.in_row:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg_depth -= 1
        if tag == "td" and self.in_row and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None
        if tag == "tr":
            self.in_row = False

    def handle_data(self, data):
        if self.cell is not None and self.svg_depth == 0:
            self.cell += data


page = Page()
with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
page.feed(text)
if not text.startswith("<!DOCTYPE html>"):
    sys.exit("report: not an HTML5 document")
if page.external:
    sys.exit("report: not self-contained: %s" % ", ".join(page.external))
for row in page.rows:
    sqnr = float(row[7])
    if not math.isfinite(sqnr):
        sys.exit("report: layer %s has no finite SQNR" % row[0])
    print("layer %s: %s bits, %s, %s weight bytes, SQNR %.2f dB"
          % (row[0], row[3], row[4], row[5], sqnr))
print("report: %d layers, svg plots: %s, self-contained"
      % (len(page.rows), ", ".join("%s %d" % kv for kv in sorted(page.svgs.items()))))
