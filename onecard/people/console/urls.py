"""Console pages of people: members and the roster."""

from django.urls import path

from . import views

urlpatterns = [
    path("members/", views.member_list, name="member-list"),
    path("members/new/", views.member_create, name="member-create"),
    path("members/export/", views.member_export, name="member-export"),
    path("members/<int:pk>/", views.member_detail, name="member-detail"),
    path("members/<int:pk>/edit/", views.member_edit, name="member-edit"),
    path("members/<int:pk>/suspend/", views.member_suspend, name="member-suspend"),
    path("members/<int:pk>/resume/", views.member_resume, name="member-resume"),
    path("members/<int:pk>/depart/", views.member_depart, name="member-depart"),
    path("roster/import/", views.roster_import, name="roster-import"),
]
