"""omnidesk: self-hosted omnichannel support bot and helpdesk."""

__version__ = "0.1.0"
