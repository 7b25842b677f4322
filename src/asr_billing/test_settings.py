"""Settings for the test suite: a throw-away home folder per process.

The database is SQLite unless ``ASR_BILLING_TEST_DB_URL`` names a PostgreSQL server
(``make test TEST_DB=postgresql://postgres@127.0.0.1:5432/test``); pytest-django then
creates and drops ``test_<name>`` there.
"""

import atexit
import os
import shutil
import tempfile

from asr_billing.core.home_init import create_home
from asr_billing.home import HOME_ENV, Home

_home_dir = tempfile.mkdtemp(prefix="asr-billing-test-")
atexit.register(shutil.rmtree, _home_dir, True)
os.environ[HOME_ENV] = _home_dir
create_home(Home(__import__("pathlib").Path(_home_dir)), demo=True,
            db_url=os.environ.get("ASR_BILLING_TEST_DB_URL", ""))

from asr_billing.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only
