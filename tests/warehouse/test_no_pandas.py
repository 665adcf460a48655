"""Sextant's own scans on DuckDB (the catalog, statistics) never import pandas: Ibis'
``to_pyarrow`` there does, and it cost every server process 50 MB resident."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from sextant.demo.setup import DemoFiles
from tests.conftest import TEST_SECRET, cli_env


def test_sync_leaves_pandas_unimported(demo: DemoFiles) -> None:
    script = textwrap.dedent(f"""
        import sys
        from sextant.cli.main import main
        sys.argv = ["sextant", "sync", {str(demo.model)!r}]
        try:
            main()
        except SystemExit as exc:
            assert not exc.code, exc.code
        assert "pandas" not in sys.modules, "sync imported pandas"
        print("no pandas")
    """)
    env = os.environ | cli_env(demo.data_dir, SEXTANT_JWT_SECRET=TEST_SECRET)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "no pandas" in done.stdout
