# REST broker status callback (HMAC-signed JSON) -> canonical status.
. as $e
| {
    status: ($tables.status.rest_broker[$e.status]
             // error("rest-broker status \($e.status) is not in the status table")),
    event_id: $e.event_id,
    lrn: $e.lrn,
    mrn: ($e.customs_reference // null),
    occurred_at: $e.occurred_at,
    errors: [($e.errors // [])[] | {code: .code, field: (.field // null), description: .message}],
    duties: [($e.duties // [])[] | {tax: .type, amount: .amount, currency: .currency}]
  }
