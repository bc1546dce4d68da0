"""The service's URLs and error handlers, plus the harness's test-only routes."""

from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401
from harness.views import Record, Records

urlpatterns = [
    *urlpatterns,
    path("harness/records/", Records.as_view()),
    path("harness/records/<int:record_id>/", Record.as_view()),
]
