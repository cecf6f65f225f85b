"""sitegen/redaction.py remembers the scan of short texts: every run that holds a token-shaped
text still has it redacted and reported, and what the memo gives is what a scan gives."""
from __future__ import annotations

import sitegen.redaction as redaction
from sitegen.load import RunSource
from sitegen.redaction import MEMO_MAX_CHARS, redact_source, redact_tokens
from tracker.reader import RunRecord
from tracker.redact import REDACTED, redact_token_shapes

TOKEN = "ghp_" + "a1B2" * 9  # a GitHub token's shape


def source(run_id: str) -> RunSource:
    run = RunRecord(id=run_id, path=f"/runs/{run_id}", name=run_id,
                    config={"optimizer": "sgd", "hub": {"token": TOKEN}, "note": f"push with {TOKEN}"})
    return RunSource(run, run_id)


def test_every_run_holding_a_token_has_it_redacted_and_reported():
    runs = [source(f"r{index}") for index in range(3)]
    findings = [redact_source(run) for run in runs]
    for run, found in zip(runs, findings):
        assert run.run.config == {"optimizer": "sgd", "hub": {"token": REDACTED}, "note": f"push with {REDACTED}"}
        assert sorted(finding.key for finding in found) == ["config.hub.token", "config.note"]
        assert all(finding.run == run.run.id for finding in found)


def test_the_memo_gives_what_a_scan_gives_short_or_long():
    texts = ["train/loss", "sgd", TOKEN, f"x{TOKEN}", "https://user:pw@example.com/x", "İstanbul sk-" + "a" * 30,
             "PASSWORD=hunter22", "a" * (MEMO_MAX_CHARS + 1) + TOKEN, ""]
    for _ in range(2):  # the second time from the memo (but the long text)
        for text in texts:
            assert redaction._redacted_shapes(text) == redact_token_shapes(text)
            assert redact_tokens(text) == redact_token_shapes(text)[0]
    assert texts[-2] not in redaction._memo and TOKEN in redaction._memo


def test_a_full_memo_starts_again(monkeypatch):
    monkeypatch.setattr(redaction, "MEMO_MAX_TEXTS", 3)
    monkeypatch.setattr(redaction, "_memo", {})
    for index in range(7):
        redaction._redacted_shapes(f"text {index}")
    assert len(redaction._memo) <= 3 and redaction._redacted_shapes(TOKEN) == redact_token_shapes(TOKEN)
