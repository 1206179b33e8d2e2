"""The README's examples run as written."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_my_market_maker_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "my_market_maker.py")], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert out.stdout.count("conserved: True") == 2 and "liquidation-cascade: fills:" in out.stdout
