"""Contacts and their channel identities: first contact. Merging two contacts into one
(and back) lives in ``merges``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.helpdesk.actions.base import add_timeline
from omnidesk.helpdesk.actions.webhooks import contact_data, queue_webhook_event
from omnidesk.helpdesk.models import ChannelIdentity, Contact


async def resolve_identity(
    session: AsyncSession,
    channel: str,
    external_id: str,
    *,
    name: str | None = None,
    email: str | None = None,
) -> ChannelIdentity:
    """The identity for a platform user, creating it and its contact on first contact.

    A new identity whose email matches an existing contact joins that contact, so one
    person on several channels has one timeline.
    """
    identity = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    )
    if identity is not None:
        known = await session.get_one(Contact, identity.contact_id)
        if name and not known.name:
            known.name = name
        if email and not known.email:
            known.email = email.lower()
        return identity
    contact: Contact | None = None
    created = False
    if email:
        contact = await session.scalar(
            select(Contact).where(Contact.email == email.lower()).order_by(Contact.id).limit(1)
        )
    if contact is None:
        contact = Contact(name=name, email=email.lower() if email else None)
        session.add(contact)
        await session.flush()
        add_timeline(session, contact.id, "contact_created", channel=channel)
        created = True
    identity = ChannelIdentity(
        contact_id=contact.id, channel=channel, external_id=external_id, display_name=name
    )
    session.add(identity)
    await session.flush()
    add_timeline(session, contact.id, "identity_added", channel=channel, external_id=external_id)
    if created:
        await queue_webhook_event(
            session, "contact.created", {"contact": contact_data(contact), "channel": channel}
        )
    return identity


async def set_contact_email(
    session: AsyncSession, contact: Contact, email: str, *, channel: str | None = None
) -> None:
    """Keep the email address a customer gave us (the web chat's "leave your email"),
    so a person can answer them there."""
    address = email.strip().lower()
    if contact.email == address:
        return
    previous = contact.email
    contact.email = address
    add_timeline(
        session, contact.id, "email_left", email=address, previous=previous, channel=channel
    )
