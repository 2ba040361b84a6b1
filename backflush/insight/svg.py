"""A few SVG elements built with the standard library's ElementTree, which escapes every text and
attribute: pictures render with nothing but Python installed (no Graphviz binary, no new package)."""
from __future__ import annotations

import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "DejaVu Sans, Arial, sans-serif"


def canvas(width: float, height: float, title: str) -> ET.Element:
    svg = ET.Element("svg", {"xmlns": SVG_NS, "width": _n(width), "height": _n(height),
                             "viewBox": f"0 0 {_n(width)} {_n(height)}", "role": "img", "font-family": FONT,
                             "font-size": "12"})
    ET.SubElement(svg, "title").text = title
    return svg


def rect(parent, x, y, w, h, **attrs) -> ET.Element:
    return ET.SubElement(parent, "rect", x=_n(x), y=_n(y), width=_n(w), height=_n(h), **_attrs(attrs))


def line(parent, x1, y1, x2, y2, **attrs) -> ET.Element:
    return ET.SubElement(parent, "line", x1=_n(x1), y1=_n(y1), x2=_n(x2), y2=_n(y2), **_attrs(attrs))


def polyline(parent, points, **attrs) -> ET.Element:
    return ET.SubElement(parent, "polyline", points=" ".join(f"{_n(x)},{_n(y)}" for x, y in points), **_attrs(attrs))


def circle(parent, cx, cy, r, **attrs) -> ET.Element:
    return ET.SubElement(parent, "circle", cx=_n(cx), cy=_n(cy), r=_n(r), **_attrs(attrs))


def text(parent, x, y, content: str, **attrs) -> ET.Element:
    element = ET.SubElement(parent, "text", x=_n(x), y=_n(y), **_attrs(attrs))
    element.text = content
    return element


def group(parent, **attrs) -> ET.Element:
    return ET.SubElement(parent, "g", **_attrs(attrs))


def tooltip(parent, content: str) -> None:
    ET.SubElement(parent, "title").text = content


def render(svg: ET.Element) -> str:
    return ET.tostring(svg, encoding="unicode")


def _attrs(attrs: dict) -> dict:
    # class_ → class, stroke_width → stroke-width, data_lot → data-lot
    return {key.rstrip("_").replace("_", "-"): str(value) for key, value in attrs.items() if value is not None}


def _n(value: float) -> str:
    return f"{float(value):.1f}".rstrip("0").rstrip(".")
