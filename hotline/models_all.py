"""Imports every module that defines tables, so that Alembic and tests see the whole schema.

Packages that add tables (the scheduler's job store excepted: APScheduler owns it) add an import here.
"""

import bot.store  # noqa: F401
import hotline.limits  # noqa: F401
import tickets.corrections  # noqa: F401
import tickets.kb_models  # noqa: F401
import tickets.models  # noqa: F401
import tickets.models_desk  # noqa: F401
import tickets.open311_models  # noqa: F401
import tickets.sessions  # noqa: F401
import tickets.stats.models  # noqa: F401
