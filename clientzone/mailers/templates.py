"""Rendering: Jinja2 templates per message and locale, text and HTML.

`templates/<name>/<locale>/subject.txt`, `body.txt` and `body.html`; HTML is
autoescaped (a contact called `<script>` arrives as text), text is not.
Undefined variables are errors, so a message that cannot render fails when it
is enqueued, inside the transaction, instead of going out blank.

Every message is rendered with a `brand` (clientzone/brands.py): the
account's for a message about an account, else the default brand of settings.
Category messages (account notifications) end with a link to the brand's
portal email preferences page (`<portal URL>/email-preferences`), in the text
part and the layout's footer; login messages (codes, links, security notices)
have none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from clientzone.brands import Brand
from clientzone.models.users import Locale


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


PREFERENCES_PATH = "/email-preferences"
_PREFERENCES_LINE = {
    Locale.ES: "Elija qué correos recibe: {url}",
    Locale.EN: "Choose which emails you receive: {url}",
}


@cache
def _environment(autoescape: bool) -> Environment:
    return Environment(
        loader=PackageLoader("clientzone.mailers", "templates"),
        autoescape=autoescape,  # noqa: S701 (off only for the text/plain parts)
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def render(
    name: str,
    locale: Locale,
    brand: Brand,
    *,
    preferences_link: bool = False,
    **variables: Any,
) -> Rendered:
    """`preferences_link` for a category message (see the module docstring)."""
    preferences_url = brand.portal_url + PREFERENCES_PATH if preferences_link else None
    context = {
        "brand": brand,
        "locale": locale.value,
        "preferences_url": preferences_url,
        **variables,
    }
    text_env, html_env = _environment(False), _environment(True)
    subject = text_env.get_template(f"{name}/{locale.value}/subject.txt").render(context)
    subject = " ".join(subject.split())
    text = text_env.get_template(f"{name}/{locale.value}/body.txt").render(context) + "\n"
    if preferences_url is not None:
        text += "\n-- \n" + _PREFERENCES_LINE[locale].format(url=preferences_url) + "\n"
    return Rendered(
        subject=subject,
        text=text,
        html=html_env.get_template(f"{name}/{locale.value}/body.html").render(
            {**context, "subject": subject}
        ),
    )
