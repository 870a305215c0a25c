"""Reading the content of an opaque S/MIME signed part (``application/pkcs7-mime;
smime-type=signed-data``, a ``smime.p7m`` file): the signed MIME entity sits inside the
CMS structure, readable without any key. Encrypted parts (enveloped-data) are not
readable and stay files. The signature is not checked: the sender's identity comes from
the mail's headers like any other mail's.
"""

from __future__ import annotations

import logging
from email.message import Message

from asn1crypto import cms

log = logging.getLogger(__name__)


def signed_content(part: Message) -> bytes | None:
    """The MIME entity an opaque signed part carries, or None when the part is not
    signed-data (encrypted, say) or cannot be read."""
    smime_type = str(part.get_param("smime-type", "", header="content-type")).lower()
    if smime_type and smime_type != "signed-data":
        return None
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        return None
    try:
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "signed_data":
            return None
        inner = info["content"]["encap_content_info"]["content"]
        content = inner.native if inner is not None else None
    except Exception as exc:  # garbage where a signature should be: keep the file
        log.debug("unreadable S/MIME signed part: %s", exc)
        return None
    return content if isinstance(content, bytes) and content else None
