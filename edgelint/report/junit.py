"""JUnit XML, for CI systems that show test reports: a testsuite per file, a failing testcase per finding."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import Sequence

from edgelint.findings import Finding
from edgelint.fingerprints import normalized_path

# Characters XML 1.0 cannot carry even escaped (control characters, lone surrogates from
# undecodable file names); ElementTree would write them raw and break the document.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(findings: Sequence[Finding]) -> str:
    root = ET.Element("testsuites", name="edgelint")
    ordered = sorted(findings, key=lambda f: (normalized_path(f.path), f.line, f.column, f.code))
    for path, group in groupby(ordered, key=lambda f: normalized_path(f.path)):
        _suite(root, path, list(group))
    if not findings:
        # A report without any testcase fails Jenkins' junit step by default; a clean run is a pass.
        suite = ET.SubElement(root, "testsuite", name="edgelint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="no problems found", classname="edgelint")
    root.set("tests", str(len(root.findall("./testsuite/testcase"))))
    root.set("failures", str(len(findings)))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(root: ET.Element, path: str, findings: Sequence[Finding]) -> None:
    count, path = str(len(findings)), _xml(path)
    suite = ET.SubElement(root, "testsuite", name=path, tests=count, failures=count, errors="0")
    for finding in findings:
        case = ET.SubElement(suite, "testcase", name=f"{finding.code} at {finding.line}:{finding.column}",
                             classname=path, file=path, line=str(finding.line))
        failure = ET.SubElement(case, "failure", type=finding.code, message=_xml(finding.message))
        failure.text = _details(path, finding)


def _details(path: str, finding: Finding) -> str:
    lines = [f"{path}:{finding.line}:{finding.column}: {finding.code} {_xml(finding.message)}"]
    lines.extend(f"{_xml(place.message)}: {_xml(place.path)}:{place.line}:{place.column}" for place in finding.related)
    return "\n".join(lines)


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
