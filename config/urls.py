from django.urls import path

from app import views

urlpatterns = [
    path("api/notes/", views.NoteCollection.as_view()),
    path("api/notes/<int:note_id>/", views.NoteItem.as_view()),
    path("api/openapi.json", views.OpenApiDocument.as_view()),
]

# Django's own error pages are HTML; an API answers errors in JSON too.
handler400 = "app.errors.bad_request"
handler403 = "app.errors.permission_denied"
handler404 = "app.errors.not_found"
handler500 = "app.errors.server_error"
