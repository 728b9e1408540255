"""Reading ISO 20022 files safely: which message a file is, and its elements one at a time while
libxml2 validates the stream against the official schema, so memory stays flat for millions of
transactions. Entities are never resolved and nothing is fetched from the network."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

from lxml import etree

from saldo.iso20022.messages import MessageType, schema_for


class MessageError(ValueError):
    """The file is not a well-formed, schema-valid message of the expected type."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"line {line}: {reason}" if line else reason)


def _syntax_error(exc: etree.XMLSyntaxError, prefix: str = "") -> MessageError:
    line: int | None = exc.lineno or None
    last = getattr(exc.error_log, "last_error", None)  # the stubs do not know it
    if not line and last is not None:
        line = last.line or None
    return MessageError(prefix + str(exc.msg or exc).split(" (line")[0], line=line)


def sniff_message(path: Path) -> MessageType:
    """The message type of an ISO 20022 file, read from its root element's namespace."""
    try:
        for _, element in etree.iterparse(str(path), events=("start",), resolve_entities=False, no_network=True):
            if element.getroottree().docinfo.doctype:  # the way to entity expansion and external fetches
                raise MessageError(
                    "a document type declaration (DOCTYPE) is not allowed in an ISO 20022 message", line=1
                )
            qname = etree.QName(element)
            message = MessageType.from_namespace(qname.namespace or "")
            if qname.localname != "Document" or message is None:
                raise MessageError(
                    f"not an ISO 20022 message Saldo reads: root element is {{{qname.namespace}}}{qname.localname}",
                    line=line_of(element),
                )
            return message
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from exc
    raise MessageError("the file is empty")


def expect_message(path: Path, expected: MessageType) -> None:
    """Refuse a file that is not the expected message type, naming what it is instead."""
    found = sniff_message(path)
    if found is not expected:
        raise MessageError(f"expected a {expected.value} message, got {found.value}", line=1)


# A stream validator cannot say on which line it failed; for a file up to this size the error is
# located by validating it again as a tree (only on the failure path).
LOCATE_ERRORS_UP_TO_BYTES = 256 * 1024**2


def iter_elements(path: Path, message: MessageType, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """The elements with these local names, each complete, in document order, while the whole file
    is validated against the message's schema. An element is cleared once the caller moves on; a
    schema error raises MessageError with its line — callers apply nothing before the end. Only
    elements of the same kind are dropped behind the reader, so a parent still has its own header
    fields when its end arrives."""
    qualified = [f"{{{message.namespace}}}{tag}" for tag in tags]
    root = f"{{{message.namespace}}}Document"
    last_line = 0
    closed = False
    try:
        context = etree.iterparse(
            str(path),
            events=("end",),
            tag=[*qualified, root],
            schema=schema_for(message),
            resolve_entities=False,
            no_network=True,
        )
        for _, element in context:
            last_line = line_of(element)
            if element.tag == root:
                closed = True
                continue
            yield element
            element.clear(keep_tail=False)
            parent = element.getparent()
            previous = element.getprevious()
            while parent is not None and previous is not None and previous.tag == element.tag:
                parent.remove(previous)
                previous = element.getprevious()
    except etree.XMLSchemaValidateError as exc:  # libxml2 gave up on the stream: never a 500
        raise MessageError(f"not valid {message.value}: the schema check could not complete ({exc})") from exc
    except etree.XMLSyntaxError as exc:
        error = _syntax_error(exc, f"not valid {message.value}: ")
        if error.line is None and path.stat().st_size <= LOCATE_ERRORS_UP_TO_BYTES:
            try:
                validate_document(path, message, count=tags[-1])
            except MessageError as located:
                raise located from exc
        if error.line is None and last_line:
            error = MessageError(f"{error.reason} (after line {last_line})", line=last_line)
        raise error from exc
    if not closed:  # libxml2's stream validator lets a document that stops early pass: a file cut short
        raise MessageError(
            f"not well-formed {message.value}: the file ends before its Document element is closed (cut short?)",
            line=_lines_in(path),
        )


def validate_document(path: Path, message: MessageType, *, count: str) -> int:
    """Validate a whole file against its schema in one pass over a parsed tree — about twice as
    fast as validating a stream (docs/benchmarks.md), for files whose size Saldo bounds itself (the
    pain.001 files it writes). A file larger than LOCATE_ERRORS_UP_TO_BYTES is validated as a stream instead, so memory
    stays bounded whatever the size. Returns how many ``count`` elements the file holds; raises
    MessageError with the line of the first problem and how many there are."""
    expect_message(path, message)
    if path.stat().st_size > LOCATE_ERRORS_UP_TO_BYTES:
        return sum(1 for _ in iter_elements(path, message, (count,)))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from exc
    schema = schema_for(message)
    if not schema.validate(tree):
        log = cast(Sequence[etree._LogEntry], schema.error_log)  # a sequence at run time; the stubs say less
        first = log[0]
        more = f" (and {len(log) - 1} more)" if len(log) > 1 else ""
        raise MessageError(f"not valid {message.value}: {first.message}{more}", line=first.line)
    counted = tree.xpath(f"count(//m:{count})", namespaces={"m": message.namespace})
    return int(counted) if isinstance(counted, float) else 0


def _lines_in(path: Path) -> int:
    """The number of the file's last line (only on the failure path: it reads the whole file)."""
    lines = 1
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def line_of(element: etree._Element) -> int:
    """The line an element starts on (0 if the parser did not record it)."""
    line: object = element.sourceline
    return line if isinstance(line, int) else 0
