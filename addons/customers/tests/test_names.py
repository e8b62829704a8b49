"""The pure helpers: normalised names for 查重, pinyin, credit codes, mobile numbers."""

import pytest

from addons.customers.names import normalise_company_name, pinyin_of, valid_credit_code, valid_mobile


@pytest.mark.parametrize(("name", "key"), [
    ("阿里巴巴有限公司", "阿里巴巴"),
    ("阿里巴巴有限责任公司", "阿里巴巴"),
    ("阿里巴巴股份有限公司", "阿里巴巴"),
    ("阿里巴巴集团有限公司", "阿里巴巴"),
    ("阿里巴巴（有限）公司", "阿里巴巴"),
    ("阿里巴巴（中国）有限公司", "阿里巴巴"),
    (" 阿里 巴巴 ", "阿里巴巴"),
    ("ＡＢＣ科技有限公司", "abc科技"),       # full-width letters become half-width, then lowercase
    ("abc 科技", "abc科技"),
    ("上海·华信-科技", "上海华信科技"),       # punctuation goes
    ("有限公司", "有限公司"),                 # nothing but a suffix keeps a key
])
def test_normalise_company_name(name, key):
    assert normalise_company_name(name) == key


def test_limited_and_limited_liability_are_the_same_company():
    assert normalise_company_name("华为技术有限责任公司") == normalise_company_name("华为技术有限公司")
    assert normalise_company_name("华为技术有限公司") != normalise_company_name("华为终端有限公司")


def test_pinyin_and_initials():
    assert pinyin_of("阿里巴巴") == ("alibaba", "albb")
    assert pinyin_of("ABC 科技") == ("abckeji", "abckj")


def test_credit_code():
    assert valid_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert valid_credit_code("９１３５０１００m０００１００y４３") == "91350100M000100Y43"
    assert valid_credit_code("91350100M000100Y44") is None  # wrong check digit
    assert valid_credit_code("123") is None


def test_mobile():
    assert valid_mobile("13800138000") == "13800138000"
    assert valid_mobile("+86 138-0013-8000") == "13800138000"
    assert valid_mobile("010-12345678") is None  # a landline
    assert valid_mobile("12345") is None
    assert valid_mobile("not a number") is None
