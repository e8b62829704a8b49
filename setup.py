"""Distribution "kehu": the core, the bundled addons and the ``kehu`` command.

Bundled addons are declared in the ``kehu.addons`` entry-point group exactly as a partner's
pip package declares its own, so the core has a single discovery path.
"""

from pathlib import Path

from setuptools import find_packages, setup

BUNDLED_ADDONS: list[str] = [
    # each bundled addon: "<name> = <package>"
    "customers = addons.customers",
    "leads = addons.leads",
    "opportunities = addons.opportunities",
    "calendar = addons.calendar",
]

setup(
    name="kehu",
    version="0.1.0",
    description="Kehu (客户): an open-source CRM for Chinese companies, built from addons",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.11",
    packages=find_packages(include=["core", "core.*", "addons", "addons.*"]),
    include_package_data=True,
    package_data={
        "": [
            "addon.toml",
            "*.jinja2",
            "templates/**/*",
            "static/**/*",
            "migrations/*.py",
            "migrations/*.mako",
            "locale/*/LC_MESSAGES/*",
            "i18n/*/LC_MESSAGES/*",
            "scaffold/**/*",
        ],
    },
    install_requires=[
        "alembic>=1.13,<2",
        "argon2-cffi>=23.1,<26",
        "babel>=2.14,<3",
        "click>=8.1,<9",
        "gunicorn>=22,<28",
        "icalendar>=6,<8",  # calendar: .ics export, the subscription feed and import
        "Jinja2>=3.1,<4",
        "lxml>=5.2,<7",  # openpyxl writes large XLSX exports ~1.8x faster through it
        "openpyxl>=3.1,<4",  # XLSX export and import
        "phonenumbers>=8.13,<10",  # customers: mobile numbers checked and normalised (region CN)
        "pluggy>=1.5,<2",
        "psycopg[binary]>=3.2,<4",
        "pydantic>=2.7,<3",  # the JSON API: request validation and the OpenAPI document, from one declaration
        "pyotp>=2.9,<3",  # TOTP second factor
        "pypinyin>=0.51,<1",  # customers: pinyin and initials of a name, so "albb" finds 阿里巴巴
        "pyramid>=2.0.2,<3",
        "python-dateutil>=2.8,<5",  # calendar: recurrence rules (RFC 5545 RRULE) expanded
        "pyramid_jinja2>=2.10,<3",
        "pyramid_tm>=2.5,<3",
        "python-stdnum>=1.20,<3",  # customers: 统一社会信用代码 check digits (stdnum.cn.uscc)
        "segno>=1.6,<2",  # QR code of the TOTP enrolment, as SVG
        "SQLAlchemy>=2.0.30,<2.2",
        "transaction>=4,<6",
        "WTForms>=3.1,<3.4",  # 3.4 drops tuple choices
        "zope.sqlalchemy>=3.1,<5",
        "zxcvbn>=4.4,<5",  # its bundled list of the 30,000 most common passwords
    ],
    extras_require={
        # benchmarks/run.py (issue 7): the asyncio load generator; the soak run's RSS chart
        "bench": [
            "aiohttp>=3.9,<4",
            "matplotlib>=3.8,<4",
        ],
        "test": [
            "aiohttp>=3.9,<4",  # the benchmark harness's smoke test (tests/benchmarks) drives it
            "aiosmtpd>=1.4,<2",  # a real SMTP server on loopback for the mail tests
            "playwright>=1.45,<2",
            "pytest>=8,<10",
            "pytest-xdist>=3.5,<4",
            "ruff>=0.6,<1",
            "schemathesis>=3.30,<5",  # fuzzes the JSON API from its OpenAPI document
            "WebTest>=3.0,<4",
            "wheel>=0.42",  # lets the scaffold test build a partner addon offline
        ],
    },
    entry_points={
        "console_scripts": ["kehu = core.cli:main"],
        "paste.app_factory": ["main = core:main"],
        "kehu.addons": BUNDLED_ADDONS,
        "pytest11": ["kehu = core.testing.plugin"],
    },
    classifiers=[
        "Framework :: Pyramid",
        "Programming Language :: Python :: 3.11",
        "Natural Language :: Chinese (Simplified)",
    ],
)
