"""Organizations API routes, included at /api/v1/."""

from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("branches", views.BranchViewSet, basename="branch")
router.register("group-customers", views.GroupCustomerViewSet, basename="group-customer")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("integrators", views.IntegratorViewSet, basename="integrator")
router.register("vendors", views.VendorViewSet, basename="vendor")

urlpatterns = router.urls
