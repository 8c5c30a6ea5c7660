"""Field-level validation messages in English and Chinese. marshmallow's own messages are English;
every service's schemas import this module (through shared.fields), so every field error a portal
receives carries both languages, like the errors themselves."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {"required": "Missing data for required field. / 缺少必填项",
                   "null": "Field may not be null. / 不能为空",
                   "validator_failed": "Invalid value. / 取值无效"},
    fields.String: {"invalid": "Not a valid string. / 须为文本", "invalid_utf8": "Not valid UTF-8. / 编码无效"},
    fields.Integer: {"invalid": "Not a valid integer. / 须为整数"},
    fields.Number: {"invalid": "Not a valid number. / 须为数字", "too_large": "Number too large. / 数值过大"},
    fields.Decimal: {"special": "NaN and infinity are not permitted. / 不允许非数值或无穷大"},
    fields.Boolean: {"invalid": "Not a valid boolean. / 须为是或否"},
    fields.Email: {"invalid": "Not a valid email address. / 电子邮箱格式有误"},
    fields.Date: {"invalid": "Not a valid date (YYYY-MM-DD). / 日期格式有误（年-月-日）",
                  "format": "\"{input}\" cannot be formatted as a date. / 无法识别的日期"},
    fields.DateTime: {"invalid": "Not a valid {obj_type}. / 时间格式有误",
                      "invalid_awareness": "Not a valid {awareness} {obj_type} (give the time zone). / 须带时区",
                      "format": "\"{input}\" cannot be formatted as a {obj_type}. / 无法识别的时间"},
    fields.Mapping: {"invalid": "Not a valid mapping. / 须为键值对象"},
    fields.List: {"invalid": "Not a valid list. / 须为列表"},
    fields.Nested: {"type": "Invalid type. / 类型有误"},
    fields.UUID: {"invalid_uuid": "Not a valid UUID. / 标识符格式有误"},
}


def install() -> None:
    for field_class, messages in FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **messages}
    Schema._default_error_messages = {**Schema._default_error_messages,
                                      "type": "Invalid input type. / 输入类型有误", "unknown": "Unknown field. / 未知字段"}
    validate.Length.message_min = "Shorter than minimum length {min}. / 长度不能少于{min}"
    validate.Length.message_max = "Longer than maximum length {max}. / 长度不能超过{max}"
    validate.Length.message_all = "Length must be between {min} and {max}. / 长度须在{min}到{max}之间"
    validate.Length.message_equal = "Length must be {equal}. / 长度须为{equal}"
    validate.Range.message_min = "Must be {min_op} {{min}}. / 不能小于{{min}}"
    validate.Range.message_max = "Must be {max_op} {{max}}. / 不能大于{{max}}"
    validate.Range.message_all = "Must be {min_op} {{min}} and {max_op} {{max}}. / 须在{{min}}到{{max}}之间"
    validate.OneOf.default_message = "Must be one of: {choices}. / 须为以下之一：{choices}"
    validate.Regexp.default_message = "Not in the expected format. / 格式有误"


install()
