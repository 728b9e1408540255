"""Our pain.001 files as an independent ISO 20022 implementation reads them: data classes generated
from the official XSD by xsdata, parsed with Python's own XML parser (not lxml, which Saldo writes
and validates with). What it reads must be what was registered."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.orm import Session
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.handlers import XmlEventHandler

from saldo.iso20022.messages import MessageType
from saldo.mediation.repository import RunRepository
from saldo.payers.models import PayerKind
from saldo.settings import Settings
from tests.factories import make_payer, make_token
from tests.mediation.conftest import RegisterPayments, RunPayments


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """Bindings generated from the vendored pain.001.001.09 XSD, in a package of their own."""
    folder = tmp_path_factory.mktemp("xsdata")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "xsdata",
            "generate",
            str(MessageType.PAIN_001.xsd_path),
            "--package",
            "pain001_bindings",
        ],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("pain001_bindings")
    finally:
        sys.path.remove(str(folder))


def test_an_xsd_generated_parser_reads_the_file_as_registered(
    generated: ModuleType,
    verified: RegisterPayments,
    run_payments: RunPayments,
    run_settings: Settings,
    session: Session,
) -> None:
    ids = verified(2, amount_minor=98765, remittance_info="Försörjningsstöd, hyra (maj)")
    region = make_token(session, make_payer(session, name="Region Testland", kind=PayerKind.REGION))
    session.commit()
    verified(1, as_payer=region, benefit="SJP", amount_minor=5000000, remittance_info=None)
    run = run_payments()
    [f] = RunRepository(session).files_of(run.id)
    parser = XmlParser(handler=XmlEventHandler)
    document = parser.parse(str(run_settings.outbox / f.path), generated.Document)
    message = document.cstmr_cdt_trf_initn
    assert message.grp_hdr.msg_id == f.message_id
    assert message.grp_hdr.nb_of_txs == "3"
    assert message.grp_hdr.ctrl_sum == Decimal("51975.30")
    blocks = {b.dbtr.nm: b for b in message.pmt_inf}  # one block per payer paying from the account
    assert set(blocks) == {"Testkommun", "Region Testland"}
    benefit = blocks["Testkommun"]
    assert benefit.pmt_tp_inf.ctgy_purp.cd == "SSBE"
    assert benefit.dbtr.nm == "Testkommun"
    assert benefit.btch_bookg is True
    assert [t.pmt_id.end_to_end_id for t in benefit.cdt_trf_tx_inf] == [str(i) for i in ids]
    tx = benefit.cdt_trf_tx_inf[0]
    assert tx.amt.instd_amt.value == Decimal("987.65")
    assert tx.amt.instd_amt.ccy == "SEK"
    assert tx.cdtr.nm == "Anna Andersson"
    assert tx.cdtr_acct.id.iban.startswith("SE")
    assert tx.rmt_inf.ustrd == ["Försörjningsstöd, hyra (maj)"]
    other = blocks["Region Testland"].cdt_trf_tx_inf[0]
    assert other.amt.instd_amt.value == Decimal("50000.00")
    assert other.rmt_inf is None
