from django.urls import path

from tickets import views, views_email

app_name = "tickets"
urlpatterns = [
    path("new/", views.new_ticket, name="new"),
    path("mine/", views.my_tickets, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("queue/bulk/", views.bulk, name="bulk"),
    path("queue/filters/", views.save_filter, name="filter-save"),
    path("queue/filters/<int:filter_pk>/delete/", views.delete_filter, name="filter-delete"),
    path("board/", views.board, name="board"),
    path("tags/", views.tag_suggestions, name="tag-suggestions"),
    path("inbound/<slug:queue_slug>/", views_email.inbound_webhook, name="inbound-webhook"),
    path("held/", views_email.held_list, name="held"),
    path("held/<int:inbound_pk>/", views_email.held_original, name="held-original"),
    path("held/<int:inbound_pk>/decide/", views_email.held_decide, name="held-decide"),
    path("<int:pk>/email/<int:inbound_pk>/", views_email.original_email, name="original-email"),
    path("link/<str:token>/", views.magic_link, name="magic"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/status/", views.set_status, name="status"),
    path("<int:pk>/properties/", views.update_properties, name="properties"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/time/", views.log_time, name="time"),
    path("<int:pk>/presence/", views.presence, name="presence"),
    path("<int:pk>/move/", views.board_move, name="board-move"),
    path("<int:pk>/canned/<int:canned_pk>/", views.canned_fill, name="canned-fill"),
    path("<int:pk>/files/<int:att_pk>/<str:filename>", views.attachment, name="attachment"),
]
