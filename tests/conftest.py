"""Test-session settings.

The tests that drive ``skautoencoder.nn`` directly run torch at its own thread
setting; on a small shared machine one thread is much faster than several.
The estimators use one thread by default anyway.
"""

import torch

torch.set_num_threads(1)
