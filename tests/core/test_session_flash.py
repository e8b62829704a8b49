"""The cookie session keeps its flash messages bounded: a client that posts again and again
without opening a page that shows them (the load harness did: 500 after ~200 transfers) must not
outgrow the 4 KB cookie."""

from pyramid import testing
from webob import Response

from core.web.security import FLASH_LIMIT, _session_factory

SETTINGS = {"kehu.secret": "s" * 40, "kehu.session_max_age": 3600, "kehu.cookie_secure": "false"}


def session():
    return _session_factory(SETTINGS)(testing.DummyRequest())


def test_only_the_last_messages_wait_and_a_waiting_one_is_not_queued_twice():
    s = session()
    for n in range(FLASH_LIMIT + 7):
        s.flash(f"客户 {n} 已转移", "success")
    assert s.peek_flash("success") == [f"客户 {n} 已转移" for n in range(7, FLASH_LIMIT + 7)]
    s.flash("已分配。", "success")
    s.flash("已分配。", "success")
    assert s.peek_flash("success").count("已分配。") == 1
    assert len(s.peek_flash("success")) == FLASH_LIMIT
    s.flash("出错了", "danger")  # queues are bounded one by one
    assert s.peek_flash("danger") == ["出错了"]


def test_a_thousand_unread_flashes_still_fit_the_cookie():
    s = session()
    for n in range(1000):
        s.flash(f"客户“上海华信科技有限公司 {n}”已转移给王磊。", "success")
    response = Response()
    s._set_cookie(response)  # what Pyramid does at the end of the request; raised ValueError before
    assert len(response.headers["Set-Cookie"]) < 4000
