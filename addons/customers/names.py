"""Pure helpers on names and numbers: the normalised name key of 查重, pinyin for search, and the
checks of credit codes and mobile numbers. No database, no context: easy to test alone."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from pypinyin import Style, lazy_pinyin
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

# Longest first: "股份有限公司" must go before "有限公司" can leave "股份" behind.
COMPANY_SUFFIXES = ("集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司",
                    "(有限)公司", "有限公司", "(中国)")
_DROPPED = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_company_name(name: str) -> str:
    """The key two company names share when 查重 should call them the same company.

    NFKC first (full-width letters, digits and brackets become half-width), then lowercase,
    then company-form suffixes are stripped (有限公司, 有限责任公司, 股份有限公司, 集团有限公司,
    (有限)公司 and a trailing (中国)), and finally spaces and punctuation go. So
    "阿里巴巴（中国）有限公司", "阿里巴巴 有限责任公司" and "ＡＢＣ有限公司" key as "阿里巴巴", "阿里巴巴"
    and "abc". A name that is nothing but a suffix keeps its own key rather than an empty one."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = re.sub(r"\s+", "", text)
    stripped = text
    changed = True
    while changed:
        changed = False
        for suffix in COMPANY_SUFFIXES:
            if stripped.endswith(suffix) and len(stripped) > len(suffix):
                stripped = stripped[: -len(suffix)]
                changed = True
    key = _DROPPED.sub("", stripped)
    return key or _DROPPED.sub("", text) or text


def pinyin_of(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a name, lowercase and without spaces: 阿里巴巴 → ("alibaba",
    "albb"). Letters and digits already in the name stay as they are."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    full = lazy_pinyin(text, errors=lambda chars: list(chars))
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return _squash("".join(full)), _squash("".join(initials))


def _squash(text: str) -> str:
    return _DROPPED.sub("", text)[:400]


def valid_credit_code(code: str) -> str | None:
    """The 统一社会信用代码 in its compact upper-case form, or None when its check digit or
    format is wrong."""
    try:
        return str(uscc.validate(unicodedata.normalize("NFKC", code).strip().upper()))
    except StdnumError:
        return None


def valid_mobile(number: str) -> str | None:
    """A mainland mobile number as its 11 national digits, or None when it is not one.

    "+86 138-0013-8000" and "13800138000" both give "13800138000"; a landline is refused."""
    try:
        parsed = phonenumbers.parse(unicodedata.normalize("NFKC", number), "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or parsed.country_code != 86:
        return None
    if phonenumbers.number_type(parsed) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return str(parsed.national_number)
