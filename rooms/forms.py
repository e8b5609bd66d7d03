"""Forms of the room page."""

from __future__ import annotations

from django import forms

from rooms.models import ChatMessage

TOO_LONG = (
    f"Messages can be at most {ChatMessage.MAX_LENGTH:,} characters (this one has "
    "%(show_value)s), so that everyone can follow the chat. Split it into shorter messages."
)


class MessageForm(forms.Form):
    """Write a chat message."""

    body = forms.CharField(
        label="Message",
        max_length=ChatMessage.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        error_messages={"required": "Write a message before sending.", "max_length": TOO_LONG},
    )
