"""
The names of the reference rows (社保经办机构, 征收品目 and its 征收项目, 征收子目, 主管税务科所) by id, kept per
process: step 3 and 缴费记录 read their rows' ids and take the names from here, instead of joining these
tables in SQL, where each joined table cost PostgreSQL more to plan than the query took to run (issue 9,
bench/profile_pages.py). The tables are small and change only through migrations or the admin.

Read in one query; emptied when a row of these tables is saved or deleted in this process; other
processes read them again after MAX_AGE seconds, or at once when asked for an id they do not have.
"""

import threading
import time

from django.db.models import CharField, F, Value
from django.db.models.signals import post_delete, post_save

from contributions.models import Agency, LevyCategory, LevyItem, LevySubcategory, TaxOffice

MAX_AGE = 300  # seconds

_lock = threading.Lock()
_state = {"names": None, "read_at": 0.0}


def _read():
    def rows(model, kind, name="name"):
        return model.objects.order_by().values_list(Value(kind, output_field=CharField()), "pk", name)

    names = {"agency": {}, "category": {}, "item": {}, "subcategory": {}, "tax_office": {}}
    queries = [
        rows(Agency, "agency"),
        rows(LevyCategory, "category"),
        rows(LevyCategory, "item", F("item__name")),  # the 征收项目 of each 征收品目, by the 品目's id
        rows(LevySubcategory, "subcategory"),
        rows(TaxOffice, "tax_office"),
    ]
    for kind, pk, name in queries[0].union(*queries[1:], all=True):
        names[kind][pk] = name
    return names


def _names(refresh=False):
    with _lock:
        if refresh or _state["names"] is None or time.monotonic() - _state["read_at"] > MAX_AGE:
            _state["names"] = _read()
            _state["read_at"] = time.monotonic()
        return _state["names"]


def name(kind, pk):
    """The name of row `pk` of `kind` (agency, category, item by category, subcategory, tax_office); "" for None."""
    if pk is None:
        return ""
    names = _names()[kind]
    if pk not in names:
        names = _names(refresh=True)[kind]
    return names.get(pk, "")


def forget(**kwargs):
    with _lock:
        _state["names"] = None


for _model in (Agency, LevyItem, LevyCategory, LevySubcategory, TaxOffice):
    post_save.connect(forget, sender=_model, dispatch_uid=f"contributions.names.{_model.__name__}.saved")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"contributions.names.{_model.__name__}.deleted")
