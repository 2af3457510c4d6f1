"""Application plans, openings (over the air and local), phone models and calibrations API.

- ``/api/v1/card-application-plans/``: read by whoever sees the customer; POST sets one kind.
- ``/api/v1/card-openings/``: provisioning jobs with their status, attempts, expiry and last
  error; POST requests an opening over the air (a member for themself); ``{id}/cancel/``;
  ``{id}/confirm/`` (the channel's proof of receipt, operator admins); ``local/`` opens at an
  issuing terminal.
- ``/api/v1/phone-models/``: the handset catalogue with calibration profiles.
- ``/api/v1/calibrations/``: calibration records; POST records one; ``phone-change/``.

Each write validates its input and calls ONE action.
"""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from onecard.accounts.choices import Role
from onecard.core.api import GatekeptViewSetMixin, IdFilter
from onecard.core.errors import InvalidInput, NotFound
from onecard.core.gatekeepers import access

from ..actions import calibration, provisioning
from ..choices import ApplicationKind, ProvisioningStatus
from ..models import ApplicationPlan, CalibrationRecord, ProvisioningJob
from . import serializers_provisioning as s


class ScopedViewSetMixin(GatekeptViewSetMixin):
    """For models without a gatekeeper manager: ``scoped()`` answers their gatekeeper
    queryset (see ``serializers_provisioning``)."""

    scoped = None

    def get_queryset(self):
        return self.filter_queryset_base().visible_to(self.request.user)

    def filter_queryset_base(self):
        return type(self).scoped()

    def get_gated_object(self, *, for_change=False):
        obj = access(type(self).scoped(), self.kwargs["pk"], self.request.user,
                     for_change=for_change)
        self.check_object_permissions(self.request, obj)
        return obj


# --- Plans --------------------------------------------------------------------------------


class PlanFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    kind = filters.ChoiceFilter(choices=ApplicationKind.choices)

    class Meta:
        model = ApplicationPlan
        fields = ["group_customer", "kind", "enabled"]


class ApplicationPlanViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Which applications each group customer has enabled, with quotas (应用开通计划)."""

    scoped = staticmethod(s.plans)
    queryset = ApplicationPlan.objects.all()
    serializer_class = s.ApplicationPlanSerializer
    input_serializers = {"create": s.SetPlanSerializer}
    filterset_class = PlanFilter
    ordering = ["group_customer_id", "kind"]

    @extend_schema(responses={200: s.ApplicationPlanSerializer})
    def create(self, request):
        """Set one application of a customer's plan (upsert)."""
        data = self.validated_input()
        return self.answer(provisioning.set_application_plan(actor=request.user, **data))


# --- Openings -----------------------------------------------------------------------------


class OpeningFilter(filters.FilterSet):
    group_customer = IdFilter(field_name="group_customer")
    card = IdFilter(field_name="application__card")
    status = filters.ChoiceFilter(choices=ProvisioningStatus.choices)
    kind = filters.ChoiceFilter(field_name="application__kind", choices=ApplicationKind.choices)

    class Meta:
        model = ProvisioningJob
        fields = ["group_customer", "card", "status", "kind"]


class OpeningViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Over-the-air openings (空中开通) and their delivery jobs; local openings (本地开通)."""

    scoped = staticmethod(s.jobs)
    queryset = ProvisioningJob.objects.all()
    serializer_class = s.ProvisioningJobSerializer
    input_serializers = {"create": s.RequestOpeningSerializer,
                         "cancel": s.CancelOpeningSerializer,
                         "confirm": s.ConfirmOpeningSerializer,
                         "local": s.OpenLocallySerializer}
    filterset_class = OpeningFilter
    ordering_fields = ["id", "created_at", "expires_at", "status"]
    ordering = ["-id"]

    @extend_schema(responses={201: s.ProvisioningJobSerializer})
    def create(self, request):
        """Request an opening over the air: phone number + name of a member in the roster."""
        data = self.validated_input()
        customer = data.pop("group_customer", None)
        if customer is None:
            customer = request.user.group_customer
            if customer is None:
                raise InvalidInput({"group_customer": ["This field is required."]})
        job = provisioning.request_application_opening(actor=request.user,
                                                       group_customer=customer, **data)
        return self.answer(s.jobs().get(pk=job.pk), status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.ProvisioningJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel an opening still in flight."""
        job = self.get_gated_object(for_change=True)
        data = self.validated_input()
        provisioning.cancel_provisioning(actor=request.user, job=job, reason=data["reason"])
        return self.answer(s.jobs().get(pk=job.pk))

    @extend_schema(responses={200: s.ProvisioningJobSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """The channel's proof of receipt for a sent job (operator admins)."""
        job = self.get_gated_object(for_change=True)
        data = self.validated_input()
        provisioning.confirm_delivery(actor=request.user, job=job, **data)
        return self.answer(s.jobs().get(pk=job.pk))

    @extend_schema(responses={201: s.OpeningApplicationSerializer})
    @action(detail=False, methods=["post"])
    def local(self, request):
        """Open an application at an issuing terminal: active at once (IC cards only so)."""
        data = self.validated_input()
        application = provisioning.open_application_locally(actor=request.user, **data)
        body = s.OpeningApplicationSerializer(application).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- Phone models and calibrations --------------------------------------------------------


class PhoneModelViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Handset models and their calibration profiles (手机型号/校准参数)."""

    scoped = staticmethod(s.phone_models)
    queryset = s.phone_models()
    serializer_class = s.PhoneModelSerializer
    input_serializers = {"create": s.PhoneModelCreateSerializer}
    search_fields = ["manufacturer", "model"]
    ordering = ["manufacturer", "model"]

    @extend_schema(responses={201: s.PhoneModelSerializer})
    def create(self, request):
        data = self.validated_input()
        return self.answer(calibration.create_phone_model(actor=request.user, **data),
                           status.HTTP_201_CREATED)


class CalibrationFilter(filters.FilterSet):
    card = IdFilter(field_name="card")
    phone_model = IdFilter(field_name="phone_model")

    class Meta:
        model = CalibrationRecord
        fields = ["card", "phone_model", "success"]


class CalibrationViewSet(GatekeptViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Distance calibration records (距离校准) from the calibrator; phone changes."""

    queryset = CalibrationRecord.objects.all()
    serializer_class = s.CalibrationRecordSerializer
    input_serializers = {"create": s.CalibrationInputSerializer,
                         "phone_change": s.PhoneChangeSerializer}
    filterset_class = CalibrationFilter
    ordering = ["-id"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.user.role == Role.VENDOR_ENGINEER:
            raise NotFound("calibrations")

    @extend_schema(responses={201: s.CalibrationRecordSerializer})
    def create(self, request):
        """Record one calibration; ``success`` says whether the threshold was stored."""
        data = self.validated_input()
        return self.answer(calibration.record_calibration(actor=request.user, **data),
                           status.HTTP_201_CREATED)

    @extend_schema(responses={200: s.StockCardSerializer})
    @action(detail=False, methods=["post"], url_path="phone-change")
    def phone_change(self, request):
        """The member changed handset: record the new model; the card needs calibrating."""
        data = self.validated_input()
        card = calibration.change_phone(actor=request.user, **data)
        return Response(s.StockCardSerializer(card).data)


router = SimpleRouter()
router.register("card-application-plans", ApplicationPlanViewSet,
                basename="card-application-plan")
router.register("card-openings", OpeningViewSet, basename="card-opening")
router.register("phone-models", PhoneModelViewSet, basename="phone-model")
router.register("calibrations", CalibrationViewSet, basename="calibration")
urlpatterns = router.urls
