from pathlib import Path

from django.urls import path

from app.api.openapi import OpenApiDocument, openapi_document
from app.notes import views as notes  # example

OPENAPI_PARTS = [
    # The service's title and version, then each app's part: a JSON file beside its views.
    Path(__file__).with_name("openapi.json"),
    notes.OPENAPI_PART,  # example
]
OPENAPI_DOCUMENT = openapi_document(*OPENAPI_PARTS)

urlpatterns = [
    path("api/notes/", notes.NoteCollection.as_view()),  # example
    path("api/notes/<int:note_id>/", notes.NoteItem.as_view()),  # example
    path("api/openapi.json", OpenApiDocument.as_view(document=OPENAPI_DOCUMENT)),
]

# Django's own error pages are HTML; an API answers errors in JSON too.
handler400 = "app.api.problems.bad_request"
handler403 = "app.api.problems.permission_denied"
handler404 = "app.api.problems.not_found"
handler500 = "app.api.problems.server_error"
