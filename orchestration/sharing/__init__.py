"""Sharing data with partners under information sharing agreements, with disclosure control.

``make_extract`` / ``share_for_all_active_partners`` (extract.py) are the entry points; the
agreement gate is in agreements.py, the dataset registry in datasets.py and the disclosure
method in disclosure.py. ``python -m orchestration.sharing --partner NAME`` is the command line.
"""

from orchestration.sharing.agreements import Agreement, SharingRefused, active_agreement, load_agreements
from orchestration.sharing.datasets import DATASETS, Dataset
from orchestration.sharing.extract import make_extract, share_for_all_active_partners

__all__ = [
    "DATASETS",
    "Agreement",
    "Dataset",
    "SharingRefused",
    "active_agreement",
    "load_agreements",
    "make_extract",
    "share_for_all_active_partners",
]
