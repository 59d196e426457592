from __future__ import annotations

from django import template

from catalog.models import Listing
from catalog.statuses import StateLabel, state_label

register = template.Library()


@register.filter
def card_state(listing: Listing) -> StateLabel:
    """{% with state=listing|card_state %}<span class="badge {{ state.colour }}">{{ state.label }}</span>"""
    return state_label(listing)
