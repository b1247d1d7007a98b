"""What an invited person receives, read as they would: the link in their mail."""

import re

from django.core import mail


def link_in_last_mail(to: str) -> str:
    """The path of the invitation link in the last mail sent (locmem backend), which must
    be to ``to`` alone."""
    message = mail.outbox[-1]
    assert message.to == [to]
    match = re.search(r"http://testserver(/invite/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)
