"""The official OOTS EDM v1.0 Schematron rules (``schematron/``, as published with the EDM's XSDs),
run by Saxon (saxonche), an XSLT and XPath engine Saldo did not write: each .sch is compiled with the
ISO Schematron skeleton that lxml ships, and the compiled stylesheet is run on the message.

A rule fails when it is an ``assert`` that does not hold or a ``report`` that fires, unless its role
is ``info`` or ``warning`` (the rules mark what MAY or SHOULD be there that way)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import lxml.isoschematron
from lxml import etree
from saxonche import PySaxonProcessor

RULES = Path(__file__).parent / "schematron"
_SKELETON = Path(lxml.isoschematron.__file__).parent / "resources" / "xsl" / "iso-schematron-xslt1"
_SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@cache
def _saxon() -> Any:
    return PySaxonProcessor(license=False)


@cache
def _compiled(name: str) -> Any:
    """The rule set as an XSLT stylesheet. The skeleton is the XSLT 1 one; the rules' XPath 2
    functions (matches) are evaluated all the same, since Saxon runs every stylesheet with XPath 3.1."""
    saxon = _saxon()
    document = etree.parse(str(RULES / f"{name}.sch"))
    document.getroot().set("queryBinding", "xslt")
    text = etree.tostring(document).decode()
    for step in ("iso_dsdl_include.xsl", "iso_abstract_expand.xsl", "iso_svrl_for_xslt1.xsl"):
        stylesheet = saxon.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(_SKELETON / step))
        text = stylesheet.transform_to_string(xdm_node=saxon.parse_xml(xml_text=text))
    return saxon.new_xslt30_processor().compile_stylesheet(stylesheet_text=text)


def failures(name: str, xml: bytes) -> list[str]:
    """The rules of ``name`` (EDM-REQ-S, EDM-RESP-C, …) that ``xml`` breaks, each as "id: text"."""
    saxon = _saxon()
    report = _compiled(name).transform_to_string(xdm_node=saxon.parse_xml(xml_text=xml.decode()))
    svrl = etree.fromstring(report.encode())
    fired = list(svrl.iter(f"{_SVRL}failed-assert", f"{_SVRL}successful-report"))
    broken = [e for e in fired if (e.get("role") or e.get("flag") or "error").lower() not in ("info", "warning")]
    return [f"{e.get('id')}: {_words(e)}" for e in broken]


def _words(element: Any) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def rules_run(name: str, xml: bytes) -> int:
    """How many rules of ``name`` applied to ``xml`` at all (a check that the rules really ran)."""
    saxon = _saxon()
    report = _compiled(name).transform_to_string(xdm_node=saxon.parse_xml(xml_text=xml.decode()))
    return report.count("fired-rule")
