from django.urls import path

from forum import views

app_name = "forum"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new_thread, name="thread-new"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("t/<int:pk>/", views.thread, name="thread"),
    path("t/<int:pk>/reply/", views.reply, name="reply"),
    path("t/<int:pk>/vote/", views.vote, name="vote"),
    path("t/<int:pk>/follow/", views.subscribe, name="subscribe"),
    path("t/<int:pk>/unaccept/", views.unaccept, name="unaccept"),
    path("t/<int:pk>/pin/", views.pin, name="thread-pin"),
    path("t/<int:pk>/lock/", views.lock, name="thread-lock"),
    path("t/<int:pk>/hide/", views.hide_thread, name="thread-hide"),
    path("t/<int:pk>/unhide/", views.unhide_thread, name="thread-unhide"),
    path("t/<int:pk>/move/", views.move, name="thread-move"),
    path("t/<int:pk>/idea-status/", views.idea_status, name="idea-status"),
    path("t/<int:pk>/to-ticket/", views.to_ticket, name="thread-to-ticket"),
    path("p/<int:pk>/", views.post_link, name="post"),
    path("p/<int:pk>/edit/", views.edit_post, name="post-edit"),
    path("p/<int:pk>/accept/", views.accept, name="post-accept"),
    path("p/<int:pk>/hide/", views.hide_post, name="post-hide"),
    path("p/<int:pk>/unhide/", views.unhide_post, name="post-unhide"),
    path("p/<int:pk>/approve/", views.approve_post, name="post-approve"),
    path("from-ticket/<int:ticket_pk>/", views.from_ticket, name="from-ticket"),
    path("moderation/", views.moderation, name="moderation"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
