"""portal.paging.get_page: Paginator.get_page's pages, with the count read in the page's own query."""

import pytest
from django.core.paginator import Paginator

from contributions.models import TaxAuthority
from portal import paging

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorities():
    TaxAuthority.objects.bulk_create(TaxAuthority(code=f"PAGING{n:03d}", name=f"机关{n}") for n in range(23))
    return TaxAuthority.objects.filter(code__startswith="PAGING").order_by("code")


def same_page(queryset, number, per_page=10):
    ours, django = (
        paging.get_page(queryset, number, per_page=per_page),
        Paginator(queryset, per_page).get_page(number),
    )
    return (
        ours.number,
        ours.paginator.count,
        list(ours) == list(django),
        django.number,
        django.paginator.count,
    )


@pytest.mark.parametrize("number", [None, "", "1", 2, "3", "4", "99", "0", "-1", "x"])
def test_a_page_is_the_one_paginator_gives(authorities, number):
    ours_number, ours_count, same_rows, django_number, django_count = same_page(authorities, number)

    assert (ours_number, ours_count, same_rows) == (django_number, django_count, True)


@pytest.mark.parametrize("values", [False, True])
def test_a_page_and_its_count_take_one_query(authorities, values, django_assert_num_queries):
    queryset = authorities.values("code", "name") if values else authorities
    with django_assert_num_queries(1):
        page = paging.get_page(queryset, "3", per_page=10)
        rows, count, pages = list(page), page.paginator.count, page.paginator.num_pages

    assert len(rows) == 3 and count == 23 and pages == 3
    assert (rows[0]["code"] if values else rows[0].code) == "PAGING020"


def test_an_empty_first_page_takes_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        page = paging.get_page(TaxAuthority.objects.filter(code="none").order_by("code"), None, per_page=10)
        assert list(page) == [] and page.paginator.count == 0 and not page.has_other_pages()


def test_nothing_to_page_takes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = paging.get_page(TaxAuthority.objects.none(), "1", per_page=10)
        assert list(page) == [] and page.paginator.count == 0
