"""Every example in docs/ runs, as written, so none can drift from what Saldo does.

Each fenced block in docs/ (the generated references aside) carries a line before it saying what it
is: ``<!-- example: KIND ARGS -->``. A block without one fails the first test, so a new example is
run the day it is written. The kinds:

- ``cli`` — shell lines, run in order: ``python3 run.py saldo …`` through the command line (against
  a database of this test's own), ``curl …`` against the app, ``export NAME=…`` into the settings,
  ``.venv/bin/pybabel …`` on a copy of the catalogues. ``$TOKEN`` and ``$KEEPER_TOKEN`` are the last
  payer and register-keeper tokens a command printed. Each must succeed.
- ``request [STATUS]`` — an HTTP request as written (a token shown as ``saldo_…`` is the payer's,
  ``saldoreg_…`` the keeper's, ``saldobank_…`` the bank's), sent to the app: it must answer STATUS
  (2xx by default). The next ``response`` block is compared with the answer.
- ``response MODEL [exact]`` — JSON that the model (a dotted path) must accept; after a request, the
  answer must have the same fields, and with ``exact`` the same values.
- ``batch FORMAT`` — a payment file, sent by the docs' example payer: it must be accepted whole.
- ``bank-file BIC`` — a bank register file, sent by that bank: it must be loaded.
- ``register KIND`` — a register extract (population, income) or a payer's decisions (decisions),
  loaded as the docs say: it must be stored.
- ``xml-fragment MESSAGE`` — part of an ISO 20022 message: well-formed, and every element in it is
  one the message's official schema defines.
- ``sed`` — a SED as it travels between EESSI nodes: Saldo's strict reader must read it.
- ``edm`` — a once-only query or response (ebXML RegRep 4, OOTS EDM): Saldo's reader must read it
  (against the official XSDs) and it must follow the official Schematron rules (run by Saxon).
- ``python`` — run, with the names it uses given real values (see ``_python``).
- ``synopsis`` and ``transcript`` — lines naming commands: each ``saldo GROUP COMMAND`` exists (its
  ``--help`` answers).
- ``diagram`` — a picture in text: not code, nothing to run.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from pydantic import BaseModel
from typer.testing import CliRunner

from saldo.app import create_app
from saldo.cli.main import app as cli
from saldo.db.engine import create_db_engine
from saldo.eessi.service import seds
from saldo.kit.webhook_signature import sign
from saldo.onceonly.service import edm
from saldo.settings import Settings
from tests.conftest import create_database
from tests.onceonly import schematron

ROOT = Path(__file__).parents[1]
DOCS = sorted(p for p in (ROOT / "docs").rglob("*.md") if "reference" not in p.relative_to(ROOT / "docs").parts)
ANNOTATION = re.compile(r"^<!-- example: (\S+)(?: (.*?))? -->$")
FENCE = re.compile(r"^```(\w*)\s*$")
KINDS = {"cli", "request", "response", "batch", "bank-file", "register", "xml-fragment", "sed", "edm", "python"}
KINDS |= {"synopsis", "transcript", "diagram"}
# The order the docs are followed in: those that connect a payer, a bank and a keeper come first.
TOKEN_MARKERS = {"TOKEN": "saldo_", "KEEPER_TOKEN": "saldoreg_", "BANK_TOKEN": "saldobank_"}
FIRST = ("payer-api.md", "payer-pages.md", "verification-of-payee.md", "bank-account-file.md")


@dataclass
class Example:
    path: Path
    line: int  # of the opening fence
    language: str
    kind: str
    args: list[str]
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} ({self.kind})"


def examples(path: Path) -> Iterator[Example | tuple[Path, int]]:
    """The fenced blocks of a Markdown file, each with its annotation (or where one is missing)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        annotation = ANNOTATION.match(lines[index - 1]) if index else None
        if annotation is None:
            yield path, index + 1
        else:
            args = (annotation.group(2) or "").split()
            yield Example(path, index + 1, fence.group(1), annotation.group(1), args, "\n".join(lines[index + 1 : end]))
        index = end + 1


def all_examples() -> list[Example]:
    found = [e for path in DOCS for e in examples(path) if isinstance(e, Example)]
    return sorted(
        found,
        key=lambda e: (
            e.path.name not in FIRST,
            FIRST.index(e.path.name) if e.path.name in FIRST else 0,
            str(e.path),
            e.line,
        ),
    )


def test_every_block_in_the_docs_says_what_it_is() -> None:
    missing = [f"{p.relative_to(ROOT)}:{line}" for path in DOCS for p, line in _unannotated(path)]
    assert missing == [], "add <!-- example: KIND --> before each (the kinds: this module's docstring)"
    unknown = [str(e) for e in all_examples() if e.kind not in KINDS]
    assert unknown == []
    assert len(all_examples()) > 30  # the walk really reads the docs


def _unannotated(path: Path) -> Iterator[tuple[Path, int]]:
    for found in examples(path):
        if isinstance(found, tuple):
            yield found


def test_the_docs_say_how_to_run_saldo_as_a_newcomer_can() -> None:
    """``saldo`` is not on a fresh machine's PATH; ``python3 run.py saldo`` is (README)."""
    bare = [
        f"{e}: {line.strip()}"
        for e in all_examples()
        if e.kind == "cli"
        for line in e.text.splitlines()
        if re.match(r"^\s*(saldo|uv) ", line)
    ]
    assert bare == []


@dataclass
class World:
    """Saldo as the docs find it: a migrated database with the catalogue, the app, the command line."""

    env: dict[str, str]
    client: TestClient
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)
    last: Any = None  # the last request's answer, for the response block after it
    runner: CliRunner = field(default_factory=CliRunner)

    def saldo(self, *args: str) -> str:
        result = self.runner.invoke(cli, list(args), env=self.env)
        assert result.exit_code == 0, f"saldo {' '.join(args)}:\n{result.output}"
        for kind, marker in TOKEN_MARKERS.items():
            found = re.search(rf"\b{marker}[A-Za-z0-9_-]+", result.output)
            if found and "token" in " ".join(args[:2]):  # a token command prints the secret once
                self.tokens[kind] = found.group(0)
        return result.output


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, worker_id: str, settings: Settings) -> Iterator[World]:
    url = create_database(f"saldo_docs_{worker_id}")
    data = tmp_path_factory.mktemp("docs")
    env = {"SALDO_DATABASE_URL": url, "SALDO_DATA_DIR": str(data)}
    runner = CliRunner()
    for command in (["migrate"], ["catalogue", "seed"]):
        result = runner.invoke(cli, command, env=env)
        assert result.exit_code == 0, result.output
    engine = create_db_engine(settings.model_copy(update={"database_url": url, "data_dir": data}))
    app = create_app(settings.model_copy(update={"database_url": url, "data_dir": data}), engine=engine)
    with TestClient(app) as client:
        yield World(env=env, client=client, tmp=data)
    engine.dispose()


def test_every_example_in_the_docs_runs(world: World) -> None:
    failures = []
    for example in all_examples():
        if example.kind != "response":
            world.last = None  # a response block compares with the request right before it only
        try:
            RUNNERS[example.kind](world, example)
        except Exception as exc:
            failures.append(f"{example}: {type(exc).__name__}: {exc}")
    assert failures == [], "\n".join(failures)


# --- the kinds ------------------------------------------------------------------------------------


def _cli(world: World, example: Example) -> None:
    text = re.sub(r"\\\n\s*", " ", example.text)  # continued lines
    for raw in _commands(text):
        words = shlex.split(raw, comments=True)
        if not words:
            continue
        if words[:3] == ["python3", "run.py", "saldo"]:
            world.saldo(*(_substitute(world, w) for w in words[3:]))
        elif words[0] == "curl":
            _curl(world, [_substitute(world, w) for w in words[1:]])
        elif words[0] == "export":
            name, _, value = words[1].partition("=")
            Settings.model_validate({name.removeprefix("SALDO_").lower(): json.loads(value)})
        elif words[0] == ".venv/bin/pybabel":
            _pybabel(world, words[1:])
        else:
            raise AssertionError(f"no way to run {raw!r}")


def _commands(text: str) -> Iterator[str]:
    """Shell lines, a quoted value spanning lines kept whole (export NAME='[ … ]')."""
    buffer = ""
    for line in text.splitlines():
        buffer = f"{buffer}\n{line}" if buffer else line
        try:
            shlex.split(buffer, comments=True)
        except ValueError:  # an open quote: the value goes on
            continue
        yield buffer
        buffer = ""
    assert buffer == "", f"unclosed quote in {text!r}"


def _substitute(world: World, word: str) -> str:
    for name, value in world.tokens.items():
        word = word.replace(f"${name}", value)
    return word


def _curl(world: World, words: list[str]) -> None:
    method, headers, body, url = "GET", {}, None, ""
    words = iter(words)
    for word in words:
        if word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-X":
            method = next(words)
        elif word in ("-d", "--data", "--data-binary"):
            body = next(words)
            method = "POST" if method == "GET" else method
        else:
            url = word
    path = re.sub(r"^https?://[^/]+", "", url)
    response = world.client.request(method, path, headers=headers, content=body)
    assert response.status_code < 400, f"curl {method} {path}: {response.status_code} {response.text}"
    world.last = response.json()


def _pybabel(world: World, words: list[str]) -> None:
    """The catalogue commands on a copy of the catalogues, so the test changes nothing of Saldo's."""
    locale = world.tmp / "locale"
    if not locale.exists():
        shutil.copytree(ROOT / "src" / "saldo" / "http" / "locale", locale)
    replaced = [
        str(world.tmp / "messages.pot") if w == "messages.pot" else str(locale) if w == "src/saldo/http/locale" else w
        for w in words
    ]
    pybabel = Path(sys.executable).parent / "pybabel"
    done = subprocess.run([str(pybabel), *replaced], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _request(world: World, example: Example) -> None:
    head, _, body = example.text.partition("\n\n")
    first, *header_lines = head.splitlines()
    method, target = first.split()[:2]
    tokens = {"saldo_…": "TOKEN", "saldoreg_…": "KEEPER_TOKEN", "saldobank_…": "BANK_TOKEN"}
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        value = value.strip()
        for shown, kind in tokens.items():
            value = value.replace(shown, world.tokens[kind]) if shown in value else value
        headers[name.strip()] = value
    response = world.client.request(method, target, headers=headers, content=body.encode() if body else None)
    expected = int(example.args[0]) if example.args else None
    if expected is not None:
        assert response.status_code == expected, response.text
    else:
        assert 200 <= response.status_code < 300, f"{method} {target}: {response.status_code} {response.text}"
    world.last = response.json()


def _response(world: World, example: Example) -> None:
    shown = json.loads(example.text)
    model = _model(example.args[0])
    model.model_validate(shown)
    unknown = set(shown) - set(model.model_fields)
    assert unknown == set(), f"fields the answer does not have: {sorted(unknown)}"
    if world.last is not None:
        got, world.last = world.last, None
        model.model_validate(got)
        assert sorted(got) == sorted(shown), f"fields: {sorted(got)} but the docs show {sorted(shown)}"
        if "exact" in example.args:
            assert got == shown


def _model(dotted: str) -> type[BaseModel]:
    module, _, name = dotted.rpartition(".")
    model = getattr(importlib.import_module(module), name)
    assert isinstance(model, type)
    assert issubclass(model, BaseModel)
    return model


def _batch(world: World, example: Example) -> None:
    content_type = {"csv": "text/csv", "ndjson": "application/x-ndjson", "json": "application/json"}
    response = world.client.post(
        "/api/v1/payment-batches",
        content=example.text.encode() + b"\n",
        headers={"Authorization": f"Bearer {world.tokens['TOKEN']}", "Content-Type": content_type[example.args[0]]},
    )
    assert response.status_code in (200, 201, 202), response.text
    result = response.json()
    assert result["status"] == "accepted", result
    world.last = result  # the answer's fields are compared with the docs' accepted answer


def _bank_file(world: World, example: Example) -> None:
    world.saldo("banks", "token", example.args[0])
    as_of = example.args[1] if len(example.args) > 1 else "2026-02-01"
    response = world.client.post(
        "/api/v1/bank/account-files",
        params={"as_of": as_of},
        content=example.text.encode() + b"\n",
        headers={"Authorization": f"Bearer {world.tokens['BANK_TOKEN']}", "Content-Type": "text/csv"},
    )
    assert response.status_code in (200, 201), response.text


def _register(world: World, example: Example) -> None:
    kind, *rest = example.args
    file = world.tmp / f"{kind}-{example.line}.csv"
    file.write_text(example.text + "\n", encoding="utf-8")
    if kind == "decisions":
        world.saldo("decisions", "ingest", rest[0], str(file))
    else:
        world.saldo("registers", "load", kind, str(file))


def _xml_fragment(_: World, example: Example) -> None:
    message = example.args[0]
    fragment = etree.fromstring(f"<fragment>{example.text}</fragment>".encode())
    schema = next((ROOT / "src" / "saldo" / "iso20022").rglob(f"{message}.xsd"))
    xs = "{http://www.w3.org/2001/XMLSchema}element"
    defined = {e.get("name") for e in etree.parse(str(schema)).iter(xs)}
    used = {element.tag for element in fragment.iter()} - {"fragment"}
    assert used - defined == set(), f"not in {message}: {sorted(used - defined)}"


def _sed(_: World, example: Example) -> None:
    seds.from_xml(example.text.encode())  # raises SedError with the path of what it cannot read


def _edm(_: World, example: Example) -> None:
    message = example.text.encode()
    if etree.QName(etree.fromstring(message)).localname == "QueryRequest":
        edm.read_request(message)
        rule_sets = ("EDM-REQ-S", "EDM-REQ-C")
    else:
        answer = edm.read_response(message)
        rule_sets = (
            ("EDM-ERR-S", "EDM-ERR-C") if isinstance(answer, edm.ExceptionResponse) else ("EDM-RESP-S", "EDM-RESP-C")
        )
    for rules in rule_sets:
        assert schematron.failures(rules, message) == [], rules


def _python(_: World, example: Example) -> None:
    """Run with a real signed delivery: the secret, the request's headers and the body."""
    secret, body = "whsec-example", b'{"message_id": 1}'

    @dataclass
    class Request:
        headers: dict[str, str]

    request = Request({"Saldo-Signature": sign(secret, body)})
    exec(compile(example.text, str(example), "exec"), {"secret": secret, "request": request, "body": body})


def _commands_named(world: World, example: Example) -> None:
    named = set(re.findall(r"\bsaldo ([a-z][a-z-]+)(?: ([a-z][a-z-]+))?", example.text))
    assert named, "no saldo command named"
    for group, command in named:
        words = [group, command] if command else [group]
        result = world.runner.invoke(cli, [*words, "--help"], env=world.env)
        if result.exit_code != 0 and command:  # a word after the group may be an argument
            result = world.runner.invoke(cli, [group, "--help"], env=world.env)
        assert result.exit_code == 0, f"saldo {' '.join(words)}: {result.output}"


RUNNERS: dict[str, Callable[[World, Example], None]] = {
    "cli": _cli,
    "request": _request,
    "response": _response,
    "batch": _batch,
    "bank-file": _bank_file,
    "register": _register,
    "xml-fragment": _xml_fragment,
    "sed": _sed,
    "edm": _edm,
    "python": _python,
    "synopsis": _commands_named,
    "transcript": _commands_named,
    "diagram": lambda _world, _example: None,
}
