"""OpenAPI descriptions of the terminal protocol (documentation only: the views validate by
hand, on the hot path). docs/terminal-protocol.md is the full reference."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers as s

AUTH_HEADERS = [
    OpenApiParameter("X-Terminal-Id", str, OpenApiParameter.HEADER, required=True,
                     description="Device id from enrolment."),
    OpenApiParameter("X-Terminal-Timestamp", int, OpenApiParameter.HEADER, required=True,
                     description="Unix time in seconds; refused outside ±300 s."),
    OpenApiParameter("X-Terminal-Sequence", int, OpenApiParameter.HEADER, required=True,
                     description="Strictly increasing per device."),
    OpenApiParameter("X-Terminal-Signature", str, OpenApiParameter.HEADER, required=True,
                     description="hex HMAC-SHA256(secret, METHOD\\nPATH?QUERY\\nTIMESTAMP\\n"
                                 "SEQUENCE\\nsha256_hex(BODY))."),
]

Error = inline_serializer("TerminalError", {
    "error": s.CharField(help_text="Stable code, e.g. bad_signature, wrong_terminal_kind."),
    "detail": s.CharField(),
    "field": s.CharField(required=False),
})
ERRORS = {400: Error, 401: Error, 403: Error, 413: Error}

EnrolRequest = inline_serializer("TerminalEnrolRequest", {
    "code": s.CharField(max_length=64), "serial": s.CharField(max_length=64),
    "firmware": s.CharField(max_length=32)})
EnrolResponse = inline_serializer("TerminalEnrolResponse", {
    "device_id": s.CharField(), "secret": s.CharField(help_text="64 hex chars, shown once."),
    "server_time": s.DateTimeField(), "kind": s.CharField(),
    "credential_version": s.IntegerField()})
CardRequest = inline_serializer("TerminalCardRequest", {"card_number": s.CharField()})
LookupResponse = inline_serializer("TerminalCardLookupResponse", {
    "card_number": s.CharField(), "status": s.CharField(), "accepted": s.BooleanField(),
    "reason": s.CharField(required=False), "applications": s.ListField(child=s.CharField()),
    "member_name": s.CharField(help_text="Masked: first character only.")})
PurchaseRequest = inline_serializer("TerminalPurchaseRequest", {
    "client_id": s.CharField(max_length=64), "card_number": s.CharField(),
    "amount": s.IntegerField(min_value=1, help_text="fen"),
    "pin_verified": s.BooleanField(default=False)})
MoneyResponse = inline_serializer("TerminalMoneyResponse", {
    "result": s.ChoiceField(choices=["approved", "refused"]),
    "reason": s.CharField(required=False, help_text="The rule that refused."),
    "client_id": s.CharField(required=False), "amount": s.IntegerField(required=False),
    "balance_after": s.IntegerField(required=False),
    "subsidy_balance_after": s.IntegerField(required=False),
    "subsidy_used": s.IntegerField(required=False), "purse_used": s.IntegerField(required=False),
    "replayed": s.BooleanField(required=False)})
TopUpRequest = inline_serializer("TerminalTopUpRequest", {
    "client_id": s.CharField(max_length=64), "card_number": s.CharField(),
    "amount": s.IntegerField(min_value=1)})
BalanceResponse = inline_serializer("TerminalBalanceResponse", {
    "card_number": s.CharField(), "balance": s.IntegerField(),
    "subsidy_balance": s.IntegerField(), "result": s.CharField(required=False),
    "reason": s.CharField(required=False)})
AccessRequest = inline_serializer("TerminalAccessRequest", {
    "card_number": s.CharField(), "direction": s.ChoiceField(choices=["in", "out"])})
AccessResponse = inline_serializer("TerminalAccessResponse", {
    "decision": s.CharField(help_text="allow | deny"), "reason": s.CharField()})
PunchRequest = inline_serializer("TerminalPunchRequest", {
    "client_id": s.CharField(max_length=64), "card_number": s.CharField(),
    "punched_at": s.DateTimeField()})
PunchResponse = inline_serializer("TerminalPunchResponse", {
    "result": s.CharField(help_text="stored | exists | exists_with_different_<field> | "
                                    "refused"),
    "reason": s.CharField(required=False)})
HeartbeatRequest = inline_serializer("TerminalHeartbeatRequest", {
    "firmware": s.CharField(max_length=32), "clock": s.DateTimeField(),
    "state": s.CharField(max_length=32)})
HeartbeatResponse = inline_serializer("TerminalHeartbeatResponse", {
    "server_time": s.DateTimeField(), "credential_version": s.IntegerField(),
    "clock_skew_seconds": s.IntegerField()})
TimeResponse = inline_serializer("TerminalTimeResponse", {"server_time": s.DateTimeField()})
CREDENTIAL_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.INT, description="Version the terminal holds (0: "
                     "snapshot)."),
    OpenApiParameter("limit", OpenApiTypes.INT, description="At most this many entries "
                     "(1–5000, default 5000)."),
    OpenApiParameter("after", OpenApiTypes.STR, description="Snapshot paging: the last card "
                     "number of the previous page."),
]
CredentialsResponse = inline_serializer("TerminalCredentialsResponse", {
    "mode": s.CharField(help_text="delta | snapshot"), "version": s.IntegerField(),
    "more": s.BooleanField(), "next_after": s.CharField(required=False),
    "entries": s.ListField(child=inline_serializer("TerminalCredentialEntry", {
        "version": s.IntegerField(), "card_number": s.CharField(),
        "state": s.CharField(help_text="allow | deny"),
        "applications": s.ListField(child=s.CharField())}))})
OfflineRecordSchema = inline_serializer("TerminalOfflineRecord", {
    "sequence": s.IntegerField(), "kind": s.CharField(help_text="purchase | punch | access"),
    "client_id": s.CharField(), "card_number": s.CharField(),
    "amount": s.IntegerField(required=False), "created_at": s.DateTimeField(),
    "prev_hash": s.CharField(), "mac": s.CharField()})
OfflineRequest = inline_serializer("TerminalOfflineUpload", {
    "records": s.ListField(child=OfflineRecordSchema, max_length=500)})
OfflineResponse = inline_serializer("TerminalOfflineResult", {
    "results": s.ListField(child=inline_serializer("TerminalOfflineRecordResult", {
        "sequence": s.IntegerField(), "client_id": s.CharField(),
        "status": s.CharField(help_text="ok | exists | exists_with_different_<field> | "
                                        "rejected:<reason>")})),
    "gaps": s.ListField(child=s.ListField(child=s.IntegerField()))})
