import os
import sys

# Tests import the harness as `harness`; the plugin itself is loaded by pytest.ini.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
