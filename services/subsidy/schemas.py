"""Input schemas of the subsidy service's RPCs. Every invalid field is reported at once."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.fields import IsoDate, Money, Pattern, identifier

REASONS = fields.List(fields.String(validate=validate.Length(min=2, max=2000)), required=True,
                      validate=validate.Length(min=1, max=20))
REFERENCE = fields.String(required=True, validate=validate.Length(min=2, max=100))


class PayeeSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    bank = fields.String(required=True, validate=validate.Length(min=2, max=200))
    account = fields.String(required=True, validate=Pattern(r"^[0-9]{8,32}$", error="8–32 digits / 账号为8–32位数字"))


class InvoiceSchema(Schema):
    contract_id = identifier()
    kind = fields.String(required=True, validate=validate.OneOf(["invoice", "payment_voucher"]))
    number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    date = IsoDate(required=True)
    amount = Money(required=True)


class DetailsSchema(Schema):
    payee = fields.Nested(PayeeSchema, required=True)
    invoices = fields.List(fields.Nested(InvoiceSchema), required=True, validate=validate.Length(min=1, max=100))


class StampSchema(Schema):
    remarks = fields.String(load_default="", validate=validate.Length(max=2000))


class SendBackSchema(Schema):
    reasons = REASONS


class ApproveSchema(Schema):
    amount = Money(required=True)


class PaymentSchema(Schema):
    paid_on = IsoDate(required=True)
    amount = Money(required=True)
    voucher_reference = REFERENCE


class RecoverySchema(Schema):
    recovered_on = IsoDate(required=True)
    amount = Money(required=True)
    reference = REFERENCE


class VerifySchema(Schema):
    """What a stamped paper copy shows on every page."""

    application_id = identifier()
    position = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**53))
    digest = fields.String(required=True, validate=Pattern(r"^[0-9a-f]{64}$"))


class CaseQuerySchema(Schema):
    campaign_code = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    status = fields.String(load_default=None, validate=validate.Length(min=1, max=32))


class ExportSchema(Schema):
    campaign_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    list = fields.String(required=True, validate=validate.OneOf(["payments", "city_totals"]))
    format = fields.String(load_default="xlsx", validate=validate.OneOf(["xlsx", "csv"]))
