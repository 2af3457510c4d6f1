"""Actions on cards: every state change of a card, application, binding, provisioning job or
calibration goes through one of these (STYLE.md rule 2). Split by sub-domain:

- ``lifecycle``: issue, loss report and un-report, suspend/resume (member or customer), replace,
  delete application, deregister, carrier binding on swap.
- ``stock``: receive, assign, return, recover, scrap.
- ``provisioning``: application plans, opening over the air or locally, delivery jobs.
- ``calibration``: phone models, calibration records, phone changes.
"""

from .calibration import *  # noqa: F403
from .lifecycle import *  # noqa: F403
from .provisioning import *  # noqa: F403
from .stock import *  # noqa: F403
