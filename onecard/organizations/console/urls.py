"""Console pages of organizations: group customers and departments."""

from django.urls import path

from . import views

urlpatterns = [
    path("group-customers/", views.group_customer_list, name="group-customer-list"),
    path("group-customers/new/", views.group_customer_create, name="group-customer-create"),
    path("group-customers/<int:pk>/", views.group_customer_detail,
         name="group-customer-detail"),
    path("group-customers/<int:pk>/edit/", views.group_customer_edit,
         name="group-customer-edit"),
    path("group-customers/<int:pk>/verify/", views.group_customer_verify,
         name="group-customer-verify"),
    path("group-customers/<int:pk>/suspend/", views.group_customer_suspend,
         name="group-customer-suspend"),
    path("group-customers/<int:pk>/resume/", views.group_customer_resume,
         name="group-customer-resume"),
    path("group-customers/<int:pk>/close/", views.group_customer_close,
         name="group-customer-close"),
    path("departments/", views.department_list, name="department-list"),
    path("departments/new/", views.department_create, name="department-create"),
    path("departments/<int:pk>/edit/", views.department_edit, name="department-edit"),
    path("departments/<int:pk>/delete/", views.department_delete, name="department-delete"),
]
