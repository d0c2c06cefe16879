"""Stand-in for the pip bootstrap script that ansible-test downloads from
ci-files.testing.ansible.com (unreachable from here; ansible-test documents saving the script
to ~/.ansible/test/cache/get_pip_<version>.py by hand instead, which scripts/sanity.sh does).

ansible-test runs it as `python get_pip.py [pip options] pip==X ...` inside a fresh, empty
virtual environment: install pip with the standard library's ensurepip, then the requested
packages from the configured package index.
"""

import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])
