import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
FIXTURES = ROOT / "fixtures"
if str(ROOT.parent) not in sys.path:
    sys.path.insert(0, str(ROOT.parent))
