"""Regenerate migrations/versions/0001_initial.py from the models (only before the first release:
after that, schema changes get migrations of their own with `alembic revision --autogenerate`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from hotline.db import MIGRATIONS, alembic_config

target = MIGRATIONS / "versions" / "0001_initial.py"
target.unlink(missing_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    config = alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}")
    command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
generated = next((MIGRATIONS / "versions").glob("0001_*.py"))
generated.rename(target)
print(f"wrote {target}")
