from __future__ import annotations

from django.urls import path

from rooms import views

ROOM = "rooms/<id:entry_id>/"
PARTICIPANT = ROOM + "participants/<id:participant_id>/"
MESSAGE = ROOM + "messages/<id:message_id>/"

urlpatterns = [
    path("rooms/new/", views.room_create, name="room_create"),
    # The room page: sessions, joining, chat and moderation.
    path(ROOM, views.room_detail, name="room_detail"),
    path(ROOM + "poll/", views.room_poll, name="room_poll"),
    path(ROOM + "join/", views.participant_join, name="participant_join"),
    path(ROOM + "leave/", views.participant_leave, name="participant_leave"),
    path(ROOM + "open/", views.session_open, name="session_open"),
    path(ROOM + "start/", views.session_start, name="session_start"),
    path(ROOM + "end/", views.session_end, name="session_end"),
    path(ROOM + "lock/", views.session_lock, name="session_lock"),
    path(ROOM + "unlock/", views.session_unlock, name="session_unlock"),
    path(PARTICIPANT, views.participant_manage, name="participant_manage"),
    path(PARTICIPANT + "remove/", views.participant_remove, name="participant_remove"),
    path(PARTICIPANT + "block/", views.participant_block, name="participant_block"),
    path(PARTICIPANT + "unblock/", views.participant_unblock, name="participant_unblock"),
    path(ROOM + "messages/", views.message_post, name="message_post"),
    path(MESSAGE + "delete/", views.message_delete, name="message_delete"),
    path(MESSAGE + "pin/", views.message_pin, name="message_pin"),
    path(MESSAGE + "unpin/", views.message_unpin, name="message_unpin"),
    path(ROOM + "chat/clear/", views.chat_clear, name="chat_clear"),
]
