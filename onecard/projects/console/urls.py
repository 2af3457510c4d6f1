"""Console pages of implementation projects."""

from django.urls import path

from . import views

urlpatterns = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/dashboard/", views.project_dashboard, name="project-dashboard"),
    path("projects/export.xlsx", views.project_export, name="project-export"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path("projects/<int:pk>/checklist/<int:item_id>/", views.checklist_tick,
         name="project-checklist-tick"),
    path("projects/<int:pk>/attachments/<int:attachment_id>/", views.attachment_download,
         name="project-attachment"),
]
for _name, (_step, _view) in views.STEP_VIEWS.items():
    if _step.per_stage:
        urlpatterns.append(path(f"projects/<int:pk>/stages/<slug:kind>/{_name}/", _view,
                                name=f"project-{_name}"))
    else:
        urlpatterns.append(path(f"projects/<int:pk>/{_name}/", _view, name=f"project-{_name}"))
